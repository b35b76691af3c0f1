"""The one place that sees everything: settings, storage, clock, promise sets and chat."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

from medlofte_bot import texts
from medlofte_bot.chat.context import Deps
from medlofte_bot.configuration import load_many
from medlofte_bot.domain.errors import ConfigError, UserError
from medlofte_bot.scheduling.clock import Clock, clock_from_setting
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.storage.database import database_url, make_engine, migrate, session_factory

DEFAULT_API = "https://api.telegram.org/bot"
DEFAULT_CONFIG = "config/arvidsjaur-2015.toml"
EXIT_CONFIG = 2


@dataclass(frozen=True)
class Settings:
    """What the environment (or .env) says."""

    token: str | None
    base_url: str
    database_url: str | None
    configs: list[Path]
    admin_ids: frozenset[int]
    clock: str | None


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Read and check settings; a wrong value raises ConfigError naming the variable."""
    raw_ids = [p.strip() for p in env.get("MEDLOFTE_ADMIN_IDS", "").split(",") if p.strip()]
    if any(not p.lstrip("-").isdigit() for p in raw_ids):
        raise ConfigError("admin_ids_invalid", value=env.get("MEDLOFTE_ADMIN_IDS", ""))
    configs = env.get("MEDLOFTE_CONFIG") or DEFAULT_CONFIG
    return Settings(
        token=env.get("TELEGRAM_BOT_TOKEN") or None,
        base_url=env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API,
        database_url=env.get("DATABASE_URL") or None,
        configs=[Path(c.strip()) for c in configs.split(",") if c.strip()],
        admin_ids=frozenset(int(p) for p in raw_ids),
        clock=env.get("MEDLOFTE_CLOCK") or None,
    )


class RedactToken(logging.Filter):
    """Keeps the bot token out of every log line (httpx logs request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the token in the formatted message."""
        message = record.getMessage()
        if self.token and self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(token: str | None) -> None:
    """Plain logs on stderr, without the token and without per-request noise."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if token:
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactToken(token))


def prepare(settings: Settings, clock: Clock, worker: str = "bot") -> Deps:
    """Migrate the database, apply the promise sets idempotently, and wire the dependencies."""
    engine = make_engine(database_url(settings.database_url))
    migrate(engine)
    sessions = session_factory(engine)
    loaded = load_many(settings.configs)
    with sessions.begin() as session:
        for s in loaded:
            apply_promise_set(session, s, clock.now(), actor="system")
    sets = {(s.promise_set.slug, s.promise_set.year): s.promise_set for s in loaded}
    return Deps(sessions=sessions, sets=sets, clock=clock, admin_ids=settings.admin_ids,
                worker=worker)


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the bot with long polling; without a token, explain and exit 2."""
    load_dotenv()
    lang = os.environ.get("MEDLOFTE_LANG", "sv")
    try:
        settings = settings_from_env(env if env is not None else os.environ)
        if settings.token is None:
            print(texts.t("no_token", lang), file=sys.stderr)
            return EXIT_CONFIG
        setup_logging(settings.token)
        clock = clock_from_setting(settings.clock)
        deps = prepare(settings, clock, worker=f"bot-{os.getpid()}")
    except UserError as exc:
        print(texts.t("cli.error", lang, message=texts.t(exc.key, lang, **exc.params)),
              file=sys.stderr)
        return EXIT_CONFIG
    from medlofte_bot.chat.app import build_application

    app = build_application(settings.token, settings.base_url, deps)
    app.run_polling(drop_pending_updates=False)
    return 0
