"""docs/configuration.md stays true: every setting of every service is documented there."""

from pathlib import Path

import pytest

from atiende_runtime.services import service, service_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize("name", service_names())
def test_every_setting_is_documented(name):
    text = DOC.read_text(encoding="utf-8")
    settings_class = service(name).settings
    missing = [
        field for field in settings_class.model_fields if f"`ATIENDE_{field.upper()}`" not in text
    ]
    assert not missing, f"docs/configuration.md lacks {name} settings: {missing}"
