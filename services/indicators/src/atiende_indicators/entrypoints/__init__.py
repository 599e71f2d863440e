"""Where requests and events come in: HTTP routes (http/) and the event handler (consumers.py)."""
