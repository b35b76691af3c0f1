"""The ASGI side: the webhook, health, readiness, metrics, and running the server."""
