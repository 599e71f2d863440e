"""Intake's domain: pure decisions and value objects, no I/O. One module per aggregate."""
