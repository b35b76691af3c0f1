"""The ASGI side of the bot: the web view's pages (pages.py) and, on the webhook branch, the
server that mounts them."""
