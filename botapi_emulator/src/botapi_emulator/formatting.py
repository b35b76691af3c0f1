"""Approximate checks of Telegram's parse modes (HTML, MarkdownV2) and plain-text rendering."""

from __future__ import annotations

import html
import re

from botapi_emulator.records import ApiError, bad_request

HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_MD2_ALWAYS_ESCAPED = frozenset("#+-={}.!")
_MD2_MARKUP = ("||", "__", "*", "_", "~")


def _entities_error(what: str) -> ApiError:
    return bad_request(f"can't parse entities: {what}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def check_html(text: str) -> None:
    """Raise a 400 ApiError when text is not HTML that Telegram accepts (approximation)."""
    stack: list[str] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        match = _TAG_RE.match(text, lt)
        if match is None:
            raise _entities_error(f"Unclosed start tag at byte offset {_byte_offset(text, lt)}")
        closing, name = match[1] == "/", match[2].lower()
        if name not in HTML_TAGS:
            kind = "end" if closing else "start"
            raise _entities_error(
                f'Unsupported {kind} tag "{name}" at byte offset {_byte_offset(text, lt)}'
            )
        if closing:
            if not stack or stack[-1] != name:
                expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                raise _entities_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, lt)}, "
                    f'expected {expected}, found "</{name}>"'
                )
            stack.pop()
        else:
            stack.append(name)
        pos = match.end()
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')


def check_markdown_v2(text: str) -> None:
    """Raise a 400 ApiError for unescaped reserved characters or unbalanced markup."""
    counts: dict[str, int] = dict.fromkeys(_MD2_MARKUP, 0)
    i, in_code, in_url = 0, False, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
            i += 3 if text.startswith("```", i) else 1
            continue
        if in_code:
            i += 1
            continue
        if in_url:
            in_url = ch != ")"
            i += 1
            continue
        if text.startswith("](", i):
            in_url, i = True, i + 2
            continue
        if ch in _MD2_ALWAYS_ESCAPED or (ch in "()" and not in_url):
            raise _entities_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        for token in _MD2_MARKUP:
            if text.startswith(token, i):
                counts[token] += 1
                i += len(token) - 1
                break
        i += 1
    if in_code:
        raise _entities_error("Can't find end of Code entity")
    for token, n in counts.items():
        if n % 2:
            raise _entities_error(f"Can't find end of the entity starting with {token!r}")


def check_text(text: str, parse_mode: str | None) -> None:
    """Validate text for the given parse_mode (None and legacy Markdown are not checked)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        check_html(text)
    elif mode == "markdownv2":
        check_markdown_v2(text)


def to_plain(text: str, parse_mode: str | None) -> str:
    """Return the text Telegram shows, without markup (entities are not produced)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return html.unescape(_TAG_RE.sub("", text))
    if mode in ("markdown", "markdownv2"):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(r"\\(.)|[*_~|`]", lambda m: m[1] or "", text)
    return text
