"""Authentication is secure by default: which mode the settings give, what is refused at start,
how roles are read from claims, and the development token the `atiende token` command mints."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from atiende_runtime import cli
from atiende_runtime.auth import (
    ANONYMOUS_DEV,
    AuthConfigError,
    Off,
    OidcIssuer,
    SharedSecret,
    auth_mode,
    authenticator_for,
    claim_at,
    roles_in,
)
from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings

SECRET = "a-development-secret-of-32-bytes-or-more"


@pytest.fixture(autouse=True)
def no_auth_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is under test must not depend on what the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith(("ATIENDE_AUTH_", "ATIENDE_OIDC_", "ATIENDE_JWT_")):
            monkeypatch.delenv(name)


def settings(**values: Any) -> Settings:
    return Settings(service_name="probe", **values)


def test_nothing_configured_is_refused_with_what_to_set() -> None:
    with pytest.raises(AuthConfigError) as refused:
        auth_mode(settings())

    message = str(refused.value)
    for variable in ("ATIENDE_AUTH_MODE", "ATIENDE_OIDC_ISSUER", "ATIENDE_JWT_SECRET"):
        assert variable in message


def test_an_app_is_not_built_without_authentication_configured() -> None:
    with pytest.raises(AuthConfigError):
        build_app(settings(), package="atiende_runtime", title="probe")


@pytest.mark.parametrize(
    ("values", "mode", "kind"),
    [
        ({"jwt_secret": SECRET}, "hs256", SharedSecret),
        ({"oidc_issuer": "https://id.example.com/realms/a"}, "oidc", OidcIssuer),
        ({"auth_mode": "off"}, "off", Off),
        # an explicit mode wins over what else is set
        (
            {"auth_mode": "hs256", "jwt_secret": SECRET, "oidc_issuer": "https://id.example.com"},
            "hs256",
            SharedSecret,
        ),
        ({"auth_mode": "off", "jwt_secret": SECRET}, "off", Off),
    ],
)
def test_the_mode_is_the_one_asked_for_or_inferred_from_what_is_set(
    values: dict[str, Any], mode: str, kind: type
) -> None:
    assert auth_mode(settings(**values)) == mode
    assert isinstance(authenticator_for(settings(**values)), kind)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"jwt_secret": SECRET, "oidc_issuer": "https://id.example.com"}, "choose one"),
        ({"auth_mode": "hs256"}, "needs ATIENDE_JWT_SECRET"),
        ({"auth_mode": "hs256", "jwt_secret": "short"}, "at least 32 bytes"),
        ({"auth_mode": "oidc"}, "needs ATIENDE_OIDC_ISSUER"),
        ({"auth_mode": "oidc", "oidc_issuer": "file:///etc/passwd"}, "http(s) URL"),
        (
            {"oidc_issuer": "https://id.example.com", "oidc_jwks_url": "ftp://id.example.com/k"},
            "http(s) URL",
        ),
    ],
)
def test_half_configured_authentication_is_refused(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(AuthConfigError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        auth_mode(settings(**values))


async def test_off_admits_everyone_as_the_development_principal() -> None:
    assert await Off().principal(None) is ANONYMOUS_DEV
    assert await Off().principal("anything") is ANONYMOUS_DEV


def test_claims_are_read_along_a_dotted_path() -> None:
    claims = {"realm_access": {"roles": ["agent"]}, "scope": "openid agent", "roles": "x"}

    assert claim_at(claims, "realm_access.roles") == ["agent"]
    assert claim_at(claims, "realm_access.missing") is None
    assert claim_at(claims, "scope.deeper") is None
    assert roles_in(claim_at(claims, "realm_access.roles")) == {"agent"}
    assert roles_in(claim_at(claims, "scope")) == {"openid", "agent"}
    assert roles_in({"agent": True}) == frozenset()
    assert roles_in(["agent", 7, None]) == {"agent"}
    assert roles_in(None) == frozenset()


def test_atiende_token_mints_what_the_hs256_mode_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")

    status = cli.main(
        [
            "token",
            "--role",
            "agent",
            "--role",
            "supervisor",
            "--sub",
            "ana@example.com",
            "--ttl",
            "30m",
            "--secret-file",
            str(secret_file),
        ]
    )

    assert status == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="atiende")
    assert claims["sub"] == "ana@example.com"
    assert claims["roles"] == ["agent", "supervisor"]
    assert claims["exp"] - claims["iat"] == 30 * 60
    assert claims["exp"] > time.time()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("8h", 28800), ("7d", 604800)]
)
def test_token_lifetimes_read_as_durations(text: str, seconds: int) -> None:
    assert cli.duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "8 hours", "-1h", "1.5h", "h"])
def test_a_lifetime_that_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(Exception, match="not a duration"):
        cli.duration(text)


def test_the_dev_secret_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ".atiende" / "dev-secret"

    first = cli.dev_secret(path)
    again = cli.dev_secret(path)

    assert first == again
    assert len(first.encode()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth_mode(settings(jwt_secret=first)) == "hs256"
