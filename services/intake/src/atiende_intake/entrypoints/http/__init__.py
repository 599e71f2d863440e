"""Intake's HTTP API, one module per resource."""
