"""`atiende serve` with no authentication configured refuses to start (exit 78, EX_CONFIG, which
deploy/restart.sh does not retry), saying what to set; turned off by name it starts and says so
loudly."""

from __future__ import annotations

import os
import subprocess
import sys

from atiende_harness.cluster import ServiceProcess, free_port


def environment(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ATIENDE_AUTH_", "ATIENDE_OIDC_", "ATIENDE_JWT_"))
    }
    return {**env, **values}


def test_a_service_with_no_authentication_configured_refuses_to_start() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atiende_runtime.cli", "serve", "indicators"],
        env=environment(ATIENDE_HTTP_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 78, done.stderr
    assert "refusing to start: authentication is not configured" in done.stderr
    assert "ATIENDE_AUTH_MODE=off" in done.stderr


async def test_authentication_off_by_name_starts_and_warns(
    database_url: str, amqp_url: str, broker_namespace: str, tmp_path
) -> None:
    port = free_port()
    process = ServiceProcess(
        "indicators",
        port,
        environment(
            ATIENDE_AUTH_MODE="off",
            ATIENDE_DATABASE_URL=database_url,
            ATIENDE_AMQP_URL=amqp_url,
            ATIENDE_BROKER_NAMESPACE=broker_namespace,
            ATIENDE_HTTP_PORT=str(port),
        ),
        tmp_path / "indicators.log",
    )
    process.start()
    try:
        await process.wait_ready()
    finally:
        process.stop()

    assert any("AUTHENTICATION IS OFF" in line for line in process.log_lines())
