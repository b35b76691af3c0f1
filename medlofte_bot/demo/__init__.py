"""The offline demo: a whole year played through the chat against the built-in emulator."""
