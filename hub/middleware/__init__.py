"""Plain ASGI middleware of the hub, one concern per file."""
