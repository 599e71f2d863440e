"""docs/configuration.md stays true: every setting of every service is documented there."""

import importlib
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
SERVICES = ("intake", "routing", "surveys", "notifications", "indicators")


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_is_documented(service):
    text = DOC.read_text(encoding="utf-8")
    settings = importlib.import_module(f"atiende_{service}.app").settings()
    missing = [
        name for name in type(settings).model_fields if f"`ATIENDE_{name.upper()}`" not in text
    ]
    assert not missing, f"docs/configuration.md lacks {service} settings: {missing}"
