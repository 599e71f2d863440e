"""deploy/restart.sh, `make run`'s supervisor: a service that exits is started again, and
SIGTERM (honcho stopping, Ctrl-C) stops the wrapper and its child at once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

RESTART = Path(__file__).resolve().parents[2] / "deploy" / "restart.sh"


def test_a_command_that_dies_is_started_again_until_sigterm(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    wrapper = subprocess.Popen(
        [str(RESTART), "sh", "-c", f"echo run >> {runs}; exit 3"], stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if runs.exists() and len(runs.read_text().splitlines()) >= 2:
                break
            time.sleep(0.1)
        assert wrapper.poll() is None, "the wrapper must outlive its command"
        assert len(runs.read_text().splitlines()) >= 2
    finally:
        wrapper.send_signal(signal.SIGTERM)
        _, stderr = wrapper.communicate(timeout=5)

    assert wrapper.returncode == 0
    assert b"exited with status 3; starting it again" in stderr


def test_sigterm_reaches_a_running_command(tmp_path: Path) -> None:
    stopped = tmp_path / "stopped"
    script = f"trap 'echo yes > {stopped}; exit 0' TERM; while :; do sleep 0.1; done"
    wrapper = subprocess.Popen([str(RESTART), "sh", "-c", script])
    time.sleep(0.5)
    wrapper.send_signal(signal.SIGTERM)

    assert wrapper.wait(timeout=5) == 0
    assert stopped.read_text().strip() == "yes"
