"""`python bot.py` in webhook mode (and polling beside the app): serves, answers, and
stops on SIGINT or SIGTERM with exit code 0, no traceback, and the webhook left set."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from botapi_emulator import BotApiEmulator, EmulatorThread
from medlofte_bot.web.server import SECRET_HEADER

from .botproc import BotProcess, webhook_env
from .conftest import free_port

TOKEN = "616161:WEBHOOK-PROCESS"
CONFIG = Path(__file__).resolve().parents[2] / "config" / "arvidsjaur-2015.toml"
SECRET = "process-secret"
USER = 4242


def _env(emu: BotApiEmulator, tmp_path: Path) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emu.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "MEDLOFTE_CONFIG": str(CONFIG),
            "MEDLOFTE_CLOCK": "2015-03-01T09:00+01:00", "MEDLOFTE_LANG": "sv"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_webhook_bot_answers_posted_updates_and_stops_cleanly(
        tmp_path: Path, sig: signal.Signals) -> None:
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False))
    emu = runner.start()
    port = free_port()
    env = {**_env(emu, tmp_path), **webhook_env(port, SECRET)}
    proc = BotProcess(env, tmp_path / "bot.log")
    try:
        runner.call(emu.add_user(USER, "Sven"))
        proc.start()
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        runner.call(emu.wait_until(lambda: emu.requests_for("setWebhook"), timeout=15))
        assert emu.webhook_url == f"http://127.0.0.1:{port}/telegram"
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").text == "ok"
        action = runner.call(emu.send_text(USER, "/mina"))
        update = emu.update_json(action.update_id)
        url = f"http://127.0.0.1:{port}/telegram"
        assert httpx.post(url, json=update).status_code == 403
        assert httpx.post(url, json=update, headers={SECRET_HEADER: SECRET}).status_code == 200
        answer = runner.call(emu.wait_for_message(USER, timeout=10))
        assert "inbjudan" in (answer.text or "")
        exit_code = proc.stop(sig=sig)
    finally:
        proc.ensure_dead()
        runner.stop()
    log = proc.log_text()
    assert exit_code == 0, log
    assert "Traceback" not in log and " ERROR " not in log and "Error" not in log, log
    assert emu.requests_for("deleteWebhook") == [], "other replicas keep the webhook"
    assert len(emu.messages_to(USER)) == 1


def test_a_polling_bot_serves_health_and_metrics_only_when_listen_is_set(tmp_path: Path) -> None:
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False))
    emu = runner.start()
    port = free_port()
    env = {**_env(emu, tmp_path), "MEDLOFTE_LISTEN": f"127.0.0.1:{port}"}
    proc = BotProcess(env, tmp_path / "bot.log")
    try:
        runner.call(emu.add_user(USER, "Sven"))
        proc.start()
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        runner.call(emu.send_text(USER, "/mina"))
        runner.call(emu.wait_for_message(USER, timeout=15))
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'medlofte_updates_total{kind="command"} 1.0' in metrics
        assert httpx.post(f"http://127.0.0.1:{port}/telegram", json={}).status_code == 404
        exit_code = proc.stop(sig=signal.SIGTERM)
    finally:
        proc.ensure_dead()
        runner.stop()
    log = proc.log_text()
    assert exit_code == 0 and "Traceback" not in log, log
    assert emu.requests_for("setWebhook") == []


def test_a_refused_set_webhook_stops_the_bot_with_one_line_and_exit_code_1(
        tmp_path: Path) -> None:
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False))
    emu = runner.start()
    port = free_port()
    # fail_next is plain (not async); the emulator only reads the list when a request comes
    emu.fail_next(1, 400, "Bad Request: bad webhook: HTTPS url must be provided",
                  methods=["setWebhook"])
    proc = BotProcess({**_env(emu, tmp_path), **webhook_env(port, SECRET)},
                      tmp_path / "bot.log")
    try:
        proc.start()
        assert proc.proc is not None
        exit_code = proc.proc.wait(30)
    finally:
        proc.ensure_dead()
        runner.stop()
    log = proc.log_text()
    assert exit_code == 1, log
    assert "https url must be provided" in log.lower() and "Traceback" not in log, log
