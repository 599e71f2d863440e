"""Intake's HTML pages: the public contact form."""
