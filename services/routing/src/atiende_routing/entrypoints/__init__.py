"""Where requests and events come in: HTTP routes (http/) and event handlers (consumers.py)."""
