"""Intake's doors: HTTP routes, the web form's pages, the SMTP listener and the event consumers."""
