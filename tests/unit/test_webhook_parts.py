"""Pure parts of webhook mode: settings, the secret check, the update types asked for, how
updates are counted and reported done."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from telegram import Update

from medlofte_bot.chat.app import ALLOWED_UPDATES, build_application
from medlofte_bot.chat.context import ChatDeps
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.updates import PerPersonUpdates, Verdict
from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.services.usecases import UseCases
from medlofte_bot.settings import load_settings
from medlofte_bot.web.metrics import BotMetrics, Waiting, update_kind
from medlofte_bot.web.server import secret_ok

URL = "https://medlofte.example.se/telegram"


def _refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    return err.value


def test_without_a_webhook_url_the_bot_polls_and_serves_nothing() -> None:
    s = load_settings({})
    assert s.webhook_url is None and s.webhook_path() is None
    assert s.listen_address() == ("127.0.0.1", 8080)
    assert not s.serves_web()


def test_listen_set_beside_polling_serves_the_app_on_that_address() -> None:
    s = load_settings({"MEDLOFTE_LISTEN": "0.0.0.0:9100"})
    assert s.serves_web() and s.webhook_url is None
    assert s.listen_address() == ("0.0.0.0", 9100)
    assert load_settings({"MEDLOFTE_LISTEN": "[::1]:8443"}).listen_address() == ("::1", 8443)


def test_a_webhook_url_with_its_secret_means_webhook_mode_on_the_urls_path() -> None:
    s = load_settings({"MEDLOFTE_WEBHOOK_URL": URL, "MEDLOFTE_WEBHOOK_SECRET": "Ab_9-x"})
    assert s.serves_web() and s.webhook_path() == "/telegram"
    assert s.listen_address() == ("127.0.0.1", 8080)
    bare = load_settings({"MEDLOFTE_WEBHOOK_URL": "https://bot.example.se",
                          "MEDLOFTE_WEBHOOK_SECRET": "s"})
    assert bare.webhook_path() == "/"


def test_a_webhook_url_without_a_secret_is_refused_naming_the_secret_variable() -> None:
    err = _refused({"MEDLOFTE_WEBHOOK_URL": URL})
    assert err.key == "settings_invalid"
    assert err.params["variable"] == "MEDLOFTE_WEBHOOK_SECRET"
    assert "required" in str(err.params["reason"])


@pytest.mark.parametrize("secret", ["with space", "å", "x" * 257, "semi;colon"])
def test_a_secret_telegram_would_refuse_is_refused_without_echoing_it(secret: str) -> None:
    err = _refused({"MEDLOFTE_WEBHOOK_URL": URL, "MEDLOFTE_WEBHOOK_SECRET": secret})
    assert err.params["variable"] == "MEDLOFTE_WEBHOOK_SECRET"
    assert secret not in str(err.params["value"])


@pytest.mark.parametrize("url", ["medlofte.example.se/telegram", "ftp://x.se/t", "https://"])
def test_a_webhook_url_that_is_no_http_url_is_refused_naming_it(url: str) -> None:
    assert _refused({"MEDLOFTE_WEBHOOK_URL": url, "MEDLOFTE_WEBHOOK_SECRET": "s"}
                    ).params["variable"] == "MEDLOFTE_WEBHOOK_URL"


@pytest.mark.parametrize("listen", ["8080", "localhost", ":8080", "host:0", "host:70000",
                                    "host:http"])
def test_a_listen_address_that_is_not_host_and_port_is_refused_naming_it(listen: str) -> None:
    assert _refused({"MEDLOFTE_LISTEN": listen}).params["variable"] == "MEDLOFTE_LISTEN"


def test_the_secret_must_match_exactly() -> None:
    assert secret_ok("s3cret", "s3cret")
    assert not secret_ok("s3cret", None)
    assert not secret_ok("s3cret", "")
    assert not secret_ok("s3cret", "s3cre")
    assert not secret_ok("s3cret", "S3CRET")
    assert not secret_ok("s3cret", "s3cret ")


def _update(**fields: object) -> Update:
    user = {"id": 5, "is_bot": False, "first_name": "A"}
    chat = {"id": 5, "type": "private"}
    message = {"message_id": 1, "date": 0, "chat": chat, "from": user}
    data: dict[str, object] = {"update_id": 1}
    for key, value in fields.items():
        data[key] = {**message, **value} if isinstance(value, dict) and key != "callback_query" \
            else value
    return Update.de_json(data, None)


def test_updates_are_counted_by_kind_with_commands_apart_from_messages() -> None:
    assert update_kind(_update(message={"text": "/klar 17"})) == "command"
    assert update_kind(_update(message={"text": "klar"})) == "message"
    assert update_kind(_update(edited_message={"text": "/klar 1", "edit_date": 1})) \
        == "edited_message"
    query = {"id": "q", "from": {"id": 5, "is_bot": False, "first_name": "A"},
             "chat_instance": "c", "data": "done:1"}
    assert update_kind(_update(callback_query=query)) == "callback_query"
    assert update_kind("not an update") == "other"


def test_metrics_count_updates_reminders_and_429s_in_their_own_registry() -> None:
    stats = {"retry_after": 3, "gave_up": 1}
    one, other = BotMetrics(stats, lambda: Waiting(7, 2)), BotMetrics()
    one.update_finished(_update(message={"text": "/mina"}), Verdict.RUN, 0.2)
    one.update_finished(_update(message={"text": "hej"}), Verdict.DUPLICATE, 0.0)
    one.delivered("sent")
    one.delivered("blocked")
    text = one.render().decode()
    assert 'medlofte_updates_total{kind="command"} 1.0' in text
    assert 'medlofte_updates_dropped_total{reason="duplicate"} 1.0' in text
    assert 'medlofte_reminders_total{outcome="sent"} 1.0' in text
    assert 'medlofte_reminders_total{outcome="blocked"} 1.0' in text
    assert "medlofte_telegram_429_total 3.0" in text
    assert "medlofte_reminders_due 7.0" in text and "medlofte_updates_open 2.0" in text
    assert 'medlofte_reply_seconds_bucket{le="0.25"} 1.0' in text
    assert 'medlofte_reply_seconds_bucket{le="0.1"} 0.0' in text
    assert "medlofte_updates_total{" not in other.render().decode()


def test_empty_variables_as_in_env_example_leave_the_bot_polling_with_no_app() -> None:
    s = load_settings({"MEDLOFTE_WEBHOOK_URL": "", "MEDLOFTE_WEBHOOK_SECRET": "",
                       "MEDLOFTE_LISTEN": ""})
    assert s.webhook_url is None and not s.serves_web()


def _message_json(text: str | None = "hej", **extra: object) -> dict[str, object]:
    message: dict[str, object] = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                  "from": {"id": 5, "is_bot": False, "first_name": "A"}, **extra}
    if text is not None:
        message["text"] = text
    return message


def test_set_webhook_asks_for_exactly_the_update_types_some_handler_takes() -> None:
    """ALLOWED_UPDATES drifts from the handlers the day one is added: each type Telegram may
    send is tried against every handler."""
    app = build_application("1:x", "http://127.0.0.1:9/bot", ChatDeps(cast(UseCases, None)),
                            Pacer(), polling=False)
    samples: dict[str, list[dict[str, object]]] = {
        kind: [_message_json("hej"),  # commands too would need a bot that called getMe
               _message_json(None, sticker={"file_id": "s", "file_unique_id": "s", "width": 1,
                                            "height": 1, "is_animated": False,
                                            "is_video": False, "type": "regular"})]
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post",
                     "business_message", "edited_business_message")}
    for kind in ("edited_message", "edited_channel_post", "edited_business_message"):
        samples[kind] = [{**m, "edit_date": 1} for m in samples[kind]]
    samples["callback_query"] = [{"id": "q", "from": {"id": 5, "is_bot": False,
                                                      "first_name": "A"},
                                  "chat_instance": "c", "data": "d:1"}]
    handled = set()
    for kind, payloads in samples.items():
        for payload in payloads:
            update = Update.de_json({"update_id": 1, kind: payload}, app.bot)
            if any(handler.check_update(update) for group in app.handlers.values()
                   for handler in group):
                handled.add(kind)
    assert handled == set(ALLOWED_UPDATES)
    assert app.updater is None, "webhook mode: no Updater"


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[object, Verdict]] = []

    def __call__(self, update: object, verdict: Verdict, began: float) -> None:
        assert began > 0
        self.calls.append((update, verdict))


async def test_the_processor_reports_each_update_dealt_with_but_not_one_that_failed() -> None:
    recorder = _Recorder()
    processor = PerPersonUpdates(on_finished=recorder)
    first = _update(message={"text": "/mina"})
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    async def broken() -> None:
        raise asyncio.CancelledError

    await processor.do_process_update(first, work())
    await processor.do_process_update(first, work())  # the same id again: dropped, reported
    assert ran == ["ran"]
    assert [v for _, v in recorder.calls] == [Verdict.RUN, Verdict.DUPLICATE]
    other = Update.de_json({"update_id": 2, "message": _message_json("/mina")}, None)
    with pytest.raises(asyncio.CancelledError):
        await processor.do_process_update(other, broken())
    assert len(recorder.calls) == 2, "a stop mid-handler is not done: recovery runs it"
