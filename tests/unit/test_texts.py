"""The Swedish and English text catalogs stay in step, and chat code keeps its words there."""

from __future__ import annotations

import ast
import string
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medlofte_bot import texts
from medlofte_bot.texts import en, sv

CHAT_DIR = Path(texts.__file__).resolve().parent.parent / "chat"
MAX_LITERAL = 25


def _fields(template: str) -> set[str]:
    """The names of the placeholders in ``template`` (``{id}``, ``{text!r}``, ``{day:<24}``)."""
    return {
        name
        for _, name, _, _ in string.Formatter().parse(template)
        if name is not None
    }


def _docstring_nodes(tree: ast.Module) -> set[int]:
    """The ids of the string constants that are docstrings of the module, classes or functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.add(id(body[0].value))
    return found


def _chat_literals() -> list[str]:
    """Long, spaced string literals in ``medlofte_bot/chat`` outside docstrings and logging.

    A literal counts as logging when a line of its statement, up to the literal itself,
    mentions ``log`` (``log.info(...)``, ``logger.warning(...)``).
    """
    offenders: list[str] = []
    for path in sorted(CHAT_DIR.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        lines = source.splitlines()
        docstrings = _docstring_nodes(tree)
        statement_of: dict[int, ast.stmt] = {}
        for statement in ast.walk(tree):
            if isinstance(statement, ast.stmt):
                # ast.walk is breadth first, so inner statements overwrite outer ones
                for child in ast.walk(statement):
                    statement_of[id(child)] = statement
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if id(node) in docstrings or len(text) <= MAX_LITERAL or " " not in text:
                continue
            enclosing = statement_of.get(id(node))
            first = enclosing.lineno if enclosing is not None else node.lineno
            span = lines[first - 1 : node.end_lineno or node.lineno]
            if any("log" in line.lower() for line in span):
                continue
            relative = path.relative_to(CHAT_DIR.parent.parent)
            offenders.append(f"{relative}:{node.lineno}: {text!r}")
    return offenders


def test_both_catalogs_have_exactly_the_same_keys() -> None:
    assert sorted(set(sv.TEXTS) - set(en.TEXTS)) == []
    assert sorted(set(en.TEXTS) - set(sv.TEXTS)) == []


@pytest.mark.parametrize("key", sorted(sv.TEXTS))
def test_each_key_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert _fields(en.TEXTS[key]) == _fields(sv.TEXTS[key])


@pytest.mark.parametrize("key", sorted(sv.TEXTS))
def test_each_placeholder_keeps_its_conversion_and_format_spec(key: str) -> None:
    def written(template: str) -> list[tuple[str, str | None, str | None]]:
        return sorted(
            (name, conversion, spec)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        )

    assert written(en.TEXTS[key]) == written(sv.TEXTS[key])


def test_t_fills_the_placeholders_of_the_requested_language() -> None:
    english = texts.t("done", "en", id=3, name="Ann")
    swedish = texts.t("done", "sv", id=3, name="Ann")

    assert "3" in english and "Ann" in english
    assert "3" in swedish and "Ann" in swedish
    assert english != swedish


def test_an_unknown_language_falls_back_to_swedish() -> None:
    assert texts.t("done", "xx", id=3, name="Ann") == texts.t("done", "sv", id=3, name="Ann")


def test_when_says_a_moment_in_each_language() -> None:
    moment = datetime(2015, 6, 12, 22, 0, tzinfo=ZoneInfo("Europe/Stockholm"))

    assert texts.when(moment, "sv") == "fredag 12 juni kl. 22.00"
    assert texts.when(moment, "en") == "Friday 12 June at 22:00"


def test_chat_modules_keep_their_user_facing_words_in_the_text_catalogs() -> None:
    assert _chat_literals() == []


def test_counts_are_said_in_the_right_form_never_with_brackets() -> None:
    from medlofte_bot import texts

    assert texts.plural("task_joint_mark", 0, "sv") == ", gemensam (ingen partner anmäld än)"
    assert texts.plural("task_joint_mark", 1, "sv") == ", gemensam (en partner anmäld)"
    assert texts.plural("task_joint_mark", 3, "sv") == ", gemensam (3 partner anmälda)"
    assert texts.plural("target_holds_added", 2, "en", title="X", target=6) == \
        "The plan got 2 new tasks so that the target for X holds (6)."
    for lang in texts.LANGUAGES:
        assert not [k for k, v in texts.CATALOGS[lang].items()
                    if "(a)" in v or "(er)" in v or "(s)" in v], lang
