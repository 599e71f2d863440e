"""Routing's domain: the case lifecycle (cases.py), the routing rules (rules.py) and the errors
they raise (errors.py). Pure: decisions only, no I/O."""
