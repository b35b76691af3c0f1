"""Settings from the environment, and the token kept out of every log line."""

from __future__ import annotations

import logging

import pytest

from medlofte_bot.bootstrap import RedactToken, main, settings_from_env
from medlofte_bot.domain.errors import ConfigError

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


def test_no_token_explains_how_to_get_one_and_exits_2(capsys) -> None:
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
