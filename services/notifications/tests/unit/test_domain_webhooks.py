"""Standard Webhooks signing, checked against the specification's test vector and the
independent `standardwebhooks` package; endpoints' filters, rotation and the URL guard."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from atiende_notifications.domain.errors import UnsafeUrl
from atiende_notifications.domain.webhooks import (
    Endpoint,
    EndpointSecret,
    check_url,
    new_secret,
    sign,
    signature_header,
)

NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)


def test_the_specifications_test_vector():
    # standard-webhooks/standard-webhooks, libraries' shared test vector
    assert (
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_the_independent_library_verifies_our_signature():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    body = b'{"type":"case.opened","data":{"n":1}}'
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": "d1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header([secret], "d1", timestamp, body),
    }
    assert Webhook(secret).verify(body, headers) == {"type": "case.opened", "data": {"n": 1}}


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    old, new = new_secret(), new_secret()
    endpoint = Endpoint(
        uuid.uuid4(), "https://x.example", (), (EndpointSecret(old, NOW),), True, NOW
    )
    rotated = endpoint.rotated(new, NOW, timedelta(hours=24))
    assert rotated.live_secrets(NOW) == [old, new]
    assert rotated.live_secrets(NOW + timedelta(hours=25)) == [new]
    body, timestamp = b"{}", int(datetime.now(UTC).timestamp())
    header = signature_header(rotated.live_secrets(NOW), "d2", timestamp, body)
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        headers = {
            "webhook-id": "d2",
            "webhook-timestamp": str(timestamp),
            "webhook-signature": header,
        }
        Webhook(secret).verify(body, headers)


def test_event_filters_match_exact_types_and_families():
    e = Endpoint(uuid.uuid4(), "https://x", ("case.*", "commitment.made"), (), True, NOW)
    assert e.wants("case.opened")
    assert e.wants("commitment.made")
    assert not e.wants("commitment.missed")
    assert not e.wants("cases.x")
    assert Endpoint(uuid.uuid4(), "https://x", (), (), True, NOW).wants("anything")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "ftp://hooks.example.com/x",
        "https:///nohost",
    ],
)
def test_unsafe_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_http=False, allow_private=False)


def test_tests_may_allow_http_to_loopback_explicitly():
    url = "http://127.0.0.1:8080/hook"
    assert check_url(url, allow_http=True, allow_private=True) == url
    assert check_url("https://hooks.example.com/x", allow_http=False, allow_private=False)
