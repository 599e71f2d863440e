"""Notifications' outbound things: the emails' words (templates) and SMTP sending."""
