"""The web view's settings: the public base URL (and its fallback on the webhook's), the
cookie key's length, and that a bot with a web view serves its app."""

from __future__ import annotations

import pytest

from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.settings import load_settings


def test_the_base_url_is_the_web_url_else_the_webhooks_scheme_and_host() -> None:
    assert load_settings({"MEDLOFTE_WEB_URL": "https://medlofte.example.se/"}).web_base() == \
        "https://medlofte.example.se"
    hook = {"MEDLOFTE_WEBHOOK_URL": "https://bot.example.se:8443/telegram",
            "MEDLOFTE_WEBHOOK_SECRET": "s3cret"}
    assert load_settings(hook).web_base() == "https://bot.example.se:8443"
    assert load_settings({**hook, "MEDLOFTE_WEB_URL": "https://web.example.se"}).web_base() \
        == "https://web.example.se"
    assert load_settings({}).web_base() is None
    assert load_settings({"MEDLOFTE_WEB_URL": ""}).web_base() is None


@pytest.mark.parametrize("variable,value", [
    ("MEDLOFTE_WEB_URL", "medlofte.example.se"), ("MEDLOFTE_WEB_URL", "ftp://x.se"),
    ("MEDLOFTE_WEB_URL", "https://"), ("MEDLOFTE_WEB_SECRET", "short"),
])
def test_a_wrong_web_setting_is_named(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as wrong:
        load_settings({variable: value})
    assert wrong.value.params["variable"] == variable


def test_a_bot_with_a_web_view_serves_its_app_beside_polling() -> None:
    assert load_settings({"MEDLOFTE_WEB_URL": "https://medlofte.example.se"}).serves_web()
    assert not load_settings({}).serves_web()
