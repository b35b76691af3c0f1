"""The session cookie's signature, the forms' CSRF token, the origin a POST must come from,
and where a login may send the browser next."""

from __future__ import annotations

import pytest

from medlofte_bot.web.security import csrf_ok, csrf_token, safe_next, same_origin, sign, unsign

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


def test_a_signed_cookie_gives_its_token_back_and_anything_altered_gives_none() -> None:
    value = sign(KEY, "abc.def")  # a token may itself hold a dot
    assert unsign(KEY, value) == "abc.def"
    token, _, mac = value.rpartition(".")
    assert unsign(KEY, f"{token}x.{mac}") is None  # another token under the old signature
    assert unsign(KEY, f"{token}.{mac[:-1]}0") is None  # a forged signature
    assert unsign(OTHER_KEY, value) is None  # signed with another deployment's key
    for broken in (None, "", "nodot", ".onlymac", f"{token}."):
        assert unsign(KEY, broken) is None


def test_the_csrf_token_belongs_to_its_session() -> None:
    mine = csrf_token(KEY, "session-1")
    assert csrf_ok(KEY, "session-1", mine)
    assert not csrf_ok(KEY, "session-2", mine)
    assert not csrf_ok(KEY, None, mine)
    assert not csrf_ok(KEY, "session-1", None)
    assert not csrf_ok(OTHER_KEY, "session-1", mine)


@pytest.mark.parametrize("origin,referer,ok", [
    ("https://medlofte.example.se", None, True),
    ("https://evil.example", None, False),
    ("http://medlofte.example.se", None, False),  # another scheme is another origin
    ("https://medlofte.example.se:8443", None, False),
    (None, "https://medlofte.example.se/webb/", True),
    (None, "https://evil.example/webb/", False),
    ("null", None, False),  # an opaque origin (a sandboxed frame, a data: page)
    (None, None, True),  # neither sent: the CSRF token and SameSite decide
])
def test_a_post_must_come_from_this_site(origin: str | None, referer: str | None,
                                         ok: bool) -> None:
    assert same_origin(origin, referer, "https://medlofte.example.se") is ok


@pytest.mark.parametrize("asked,goes", [
    ("/webb/uppdrag/17", "/webb/uppdrag/17"),
    ("/webb/kalender/2015/3?x=1", "/webb/kalender/2015/3?x=1"),
    ("https://evil.example/", "/webb/"),
    ("//evil.example/webb/", "/webb/"),
    ("/webb/logga-in/abc", "/webb/"),  # never back to a login link
    ("/other", "/webb/"),
    ("/webb/\\evil", "/webb/"),
    ("/webb/\r\nSet-Cookie:x", "/webb/"),
    (None, "/webb/"),
])
def test_after_login_only_a_page_of_the_web_view(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes
