"""The ASGI side: the webhook, health, readiness, metrics, running the server, and the
web view's pages (pages.py)."""
