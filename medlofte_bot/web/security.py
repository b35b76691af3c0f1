"""The session cookie's signature, the forms' CSRF token, and which origin a POST must come
from. Pure functions over a key and strings (tests/unit/test_web_security.py)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

SESSION_COOKIE = "medlofte_session"
NEXT_COOKIE = "medlofte_next"  # the page asked for before login, to go back to after it
COOKIE_PATH = "/webb"


def _mac(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sign(key: bytes, token: str) -> str:
    """The cookie's value: the session token and its HMAC-SHA256 under ``key``."""
    return f"{token}.{_mac(key, 'session', token)}"


def unsign(key: bytes, value: str | None) -> str | None:
    """The session token from a cookie value, or None when the signature does not hold
    (a forged or damaged cookie is no cookie)."""
    if not value or "." not in value:
        return None
    token, _, mac = value.rpartition(".")
    if not token or not hmac.compare_digest(mac, _mac(key, "session", token)):
        return None
    return token


def csrf_token(key: bytes, session_token: str) -> str:
    """The token a form of this session carries (bound to the session: another session's,
    or a page of another site, cannot post it)."""
    return _mac(key, "csrf", session_token)


def csrf_ok(key: bytes, session_token: str | None, sent: str | None) -> bool:
    """Whether a posted form's CSRF token is this session's."""
    return bool(session_token and sent) and hmac.compare_digest(
        str(sent), csrf_token(key, str(session_token)))


def same_origin(origin: str | None, referer: str | None, host_url: str) -> bool:
    """A POST from this site: its Origin (or, without one, its Referer) names our scheme and
    host; a request that names neither (an old client, a privacy setting) is let through
    to the other checks (the CSRF token, SameSite=Lax)."""
    ours = urlsplit(host_url)
    sent = origin if origin and origin != "null" else referer
    if not sent:
        return origin != "null"
    theirs = urlsplit(sent)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def safe_next(path: str | None) -> str:
    """Where to go after login: a page of the web view, never another site or the login."""
    if not path or not path.startswith(f"{COOKIE_PATH}/") or path.startswith("//") or \
            "\\" in path or path.startswith(f"{COOKIE_PATH}/logga-in") or \
            any(ord(c) < 32 for c in path):
        return f"{COOKIE_PATH}/"
    return path
