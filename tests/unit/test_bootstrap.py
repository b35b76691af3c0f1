"""Settings from the environment, and the token kept out of every log line."""

from __future__ import annotations

import logging

import pytest

from medlofte_bot.bootstrap import RedactToken, main
from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.settings import load_settings as settings_from_env

TOKEN = "123456:SECRET-TOKEN-VALUE"


def test_settings_have_sensible_defaults() -> None:
    s = settings_from_env({})
    assert s.token is None and s.database_url is None
    assert s.base_url == "https://api.telegram.org/bot"
    assert [str(p) for p in s.configs] == ["config/arvidsjaur-2015.toml"]
    assert s.admin_ids == frozenset()


def test_several_configs_and_admins_are_read_from_comma_lists() -> None:
    s = settings_from_env({"MEDLOFTE_CONFIG": "a.toml, b.toml", "MEDLOFTE_ADMIN_IDS": "12, 34"})
    assert [str(p) for p in s.configs] == ["a.toml", "b.toml"]
    assert s.admin_ids == frozenset({12, 34})


def test_admin_ids_that_are_not_numbers_are_refused_with_the_variable_named() -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_env({"MEDLOFTE_ADMIN_IDS": "12,anna"})
    assert err.value.key == "admin_ids_invalid"


def test_no_token_explains_how_to_get_one_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main({}) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and ".env" in err


def test_the_token_never_reaches_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("medlofte.test")
    redact = RedactToken(TOKEN)
    caplog.handler.addFilter(redact)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        logger.warning("plain message")
    finally:
        caplog.handler.removeFilter(redact)
    assert TOKEN not in caplog.text
    assert "bot<token>/getUpdates" in caplog.text and "plain message" in caplog.text


def test_the_locale_variable_lang_is_not_taken_for_the_bots_language() -> None:
    """Settings read only their own variables: LANG=C.UTF-8 is the shell's locale."""
    s = settings_from_env({"LANG": "C.UTF-8", "TELEGRAM_BOT_TOKEN": "1:x"})
    assert s.lang == "sv" and s.token == "1:x"


def test_a_wrong_setting_names_the_variable_and_what_would_be_right() -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_env({"MEDLOFTE_LANG": "fi"})
    assert err.value.key == "settings_invalid"
    assert err.value.params["variable"] == "MEDLOFTE_LANG" and "sv or en" in err.value.params[
        "reason"]


def test_nothing_but_settings_reads_the_environment() -> None:
    """One composition root: the environment is read in medlofte_bot/settings.py only."""
    from pathlib import Path

    package = Path(__file__).parents[2] / "medlofte_bot"
    readers = [p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if ("os.environ" in p.read_text() or "getenv" in p.read_text())
               and p.name != "settings.py"]
    # bootstrap.py only opts PTB into timedelta retry_after (a write, not a setting)
    assert readers == ["bootstrap.py"], readers
