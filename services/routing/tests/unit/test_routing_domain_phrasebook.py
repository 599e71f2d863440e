import pytest

from atiende_routing.domain.phrasebook import validate
from atiende_runtime.errors import Invalid
from atiende_runtime.languages import Register


def test_a_list_is_kept_in_order():
    phrases = validate("es", "informal", [" Me encargo yo. ", "Lo miro ahora."])
    assert [(p.position, p.text, p.register) for p in phrases] == [
        (0, "Me encargo yo.", Register.INFORMAL),
        (1, "Lo miro ahora.", Register.INFORMAL),
    ]


def test_bad_lists_name_each_problem():
    with pytest.raises(Invalid) as bad:
        validate("fr", "casual", ["ok", "OK", "", "x" * 201])
    assert set(bad.value.by_field()) == {
        "language",
        "register",
        "phrases.1",
        "phrases.2",
        "phrases.3",
    }
    with pytest.raises(Invalid):
        validate("es", "formal", [])
