"""End-to-end tests: the real bot against the local Bot API emulator.

A package (unlike tests/, tests/unit/, tests/integration/) so that this folder's conftest.py
is the module ``e2e.conftest`` and not a second top-level ``conftest`` beside tests/conftest.py:
mypy checks both in one run, and the tests here import their helpers relatively.
"""
