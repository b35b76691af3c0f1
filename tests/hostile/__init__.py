"""Hostile input through the real bot: a seeded generator, a runner over the emulator, an oracle.

``generator`` is pure (a seed in, steps out); ``world`` sets up the people and chats on an
end-to-end Harness; ``runner`` plays the steps and asks ``oracle`` after each one. The suite in
``make test`` and ``bench/fuzz.py`` share them.
"""
