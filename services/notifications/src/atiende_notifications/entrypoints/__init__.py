"""Notifications' ways in: HTTP routes, event consumers and the dispatcher worker."""
