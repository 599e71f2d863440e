"""Settings: local defaults, ATIENDE_ environment overrides, and the port each service listens on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atiende_runtime.services import services
from atiende_runtime.settings import Settings


@pytest.fixture(autouse=True)
def no_atiende_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults under test must not depend on what the developer's shell exports."""
    for name in (
        "DATABASE_URL",
        "DATABASE_DIRECT_URL",
        "DATABASE_ADMIN_URL",
        "AMQP_URL",
        "BROKER_NAMESPACE",
        "HTTP_PORT",
        "DELIVERY_LIMIT",
    ):
        monkeypatch.delenv(f"ATIENDE_{name}", raising=False)


def test_defaults_point_at_local_infrastructure() -> None:
    settings = Settings()

    assert settings.database_url == "postgresql://atiende_atiende@127.0.0.1:5432/atiende"
    assert settings.database_admin_url is None
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.broker_namespace == "atiende"
    assert settings.delivery_limit == 5
    assert settings.jwt_secret is None


def test_environment_overrides_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATIENDE_DATABASE_URL", "postgresql://app@db.internal:5432/atiende")
    monkeypatch.setenv("ATIENDE_DELIVERY_LIMIT", "3")

    settings = Settings()

    assert settings.database_url == "postgresql://app@db.internal:5432/atiende"
    assert settings.delivery_limit == 3


def test_each_service_logs_in_as_its_own_role_by_default() -> None:
    for name, definition in services().items():
        settings = definition.settings()
        assert settings.database_url == f"postgresql://atiende_{name}@127.0.0.1:5432/atiende"
        assert settings.session_database_url == settings.database_url


def test_one_shared_url_names_each_services_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATIENDE_DATABASE_URL", "postgresql://atiende_{service}:pw@pool:6432/db")
    monkeypatch.setenv("ATIENDE_DATABASE_DIRECT_URL", "postgresql://atiende_{service}:pw@pg/db")

    settings = Settings(service_name="routing")

    assert settings.database_url == "postgresql://atiende_routing:pw@pool:6432/db"
    assert settings.session_database_url == "postgresql://atiende_routing:pw@pg/db"


def test_schema_is_named_after_the_service() -> None:
    assert Settings(service_name="routing").db_schema == "routing"


@pytest.mark.parametrize(
    ("service", "port"),
    [
        ("intake", 8001),
        ("routing", 8002),
        ("surveys", 8003),
        ("notifications", 8004),
        ("indicators", 8005),
    ],
)
def test_each_service_has_its_own_default_port(service: str, port: int) -> None:
    assert services()[service].settings().port == port


def test_every_service_is_installed_and_default_ports_do_not_collide() -> None:
    found = services()
    assert set(found) == {"intake", "routing", "surveys", "notifications", "indicators"}
    ports = [definition.default_port for definition in found.values()]
    assert ports == sorted(set(ports)), "ports collide, or the suite's order is not by port"
    assert ports[0] == 8001


def test_unknown_service_falls_back_to_8000_and_http_port_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(service_name="other").port == 8000
    monkeypatch.setenv("ATIENDE_HTTP_PORT", "9100")
    assert Settings(service_name="intake").port == 9100


@pytest.mark.parametrize("namespace", ["Upper", "1digit", "with.dot", ""])
def test_namespace_must_be_safe_in_exchange_and_queue_names(namespace: str) -> None:
    with pytest.raises(ValidationError, match="broker_namespace"):
        Settings(broker_namespace=namespace)
