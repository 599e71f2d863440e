"""How a validation error's location becomes the `field` a client reads in a problem."""

from __future__ import annotations

import pytest

from atiende_runtime.problems import _field_path


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "customer", "email"), "customer.email"),
        (("body", "type"), "type"),
        (("body", "items", 2, "name"), "items.2.name"),
        # a body that is wrong as a whole (not JSON, not an object) keeps the `body` name
        (("body",), "body"),
        (("path", "case_id"), "path.case_id"),
        (("query", "limit"), "query.limit"),
        (("header", "x-request-id"), "header.x-request-id"),
        (("cookie", "session"), "cookie.session"),
        (("customer", "email"), "customer.email"),
        ((), ""),
    ],
)
def test_field_path(loc: tuple[object, ...], field: str) -> None:
    assert _field_path(loc) == field
