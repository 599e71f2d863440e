"""The layering every service shares (docs/architecture.md) holds in the suite, not only in
`make lint`: import-linter's contracts in pyproject.toml, and a harness that runs without pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def test_harness_and_cli_import_no_pytest() -> None:
    code = (
        "import sys, atiende_harness.bench, atiende_harness.chaos, atiende_runtime.cli;"
        "bad = sorted(m for m in sys.modules if m == 'pytest' or m.startswith(('_pytest', 'atiende_testing')));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
