"""The one Settings for the bot and the command line; nothing else reads the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import load_dotenv
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from medlofte_bot.domain.errors import ConfigError

DEFAULT_API = "https://api.telegram.org/bot"
DEFAULT_CONFIG = "config/arvidsjaur-2015.toml"
DEFAULT_LISTEN = "127.0.0.1:8080"
# what Telegram accepts as a webhook's secret_token (setWebhook)
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _comma_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return list(value or [])


class Settings(BaseSettings):
    """What the environment (or .env, loaded by python-dotenv first) says."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    token: str | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    base_url: str = Field(DEFAULT_API, validation_alias="TELEGRAM_API_BASE_URL")
    bot_username: str = Field("medlofte_bot", validation_alias="TELEGRAM_BOT_USERNAME")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    configs: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path(DEFAULT_CONFIG)], validation_alias="MEDLOFTE_CONFIG")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        frozenset(), validation_alias="MEDLOFTE_ADMIN_IDS")
    clock: str | None = Field(None, validation_alias="MEDLOFTE_CLOCK")
    lang: str = Field("sv", validation_alias="MEDLOFTE_LANG")
    # a deactivated member's name is replaced by their role word this many months later
    names_kept_months: int | None = Field(12, validation_alias="MEDLOFTE_NAMES_KEPT_MONTHS")
    # webhook mode when set (the public URL; its path is the route); long polling otherwise
    webhook_url: str | None = Field(None, validation_alias="MEDLOFTE_WEBHOOK_URL")
    webhook_secret: str | None = Field(None, validation_alias="MEDLOFTE_WEBHOOK_SECRET",
                                       validate_default=True)
    listen: str = Field(DEFAULT_LISTEN, validation_alias="MEDLOFTE_LISTEN")
    # several processes (deploy/compose.yaml): seconds before a live one takes up an update
    # a stopped one had accepted, and messages per second each sends over all its chats
    # (Telegram allows a bot about 30: with N replicas, 30/N each; 0: no overall pacing)
    inbox_lease: float = Field(60.0, validation_alias="MEDLOFTE_INBOX_LEASE")
    send_rate: float = Field(30.0, validation_alias="MEDLOFTE_SEND_RATE")
    # the web view: its public base URL, and the key that signs its session cookies (unset:
    # one is made and kept in the database, shared by every process)
    web_url: str | None = Field(None, validation_alias="MEDLOFTE_WEB_URL")
    web_secret: str | None = Field(None, validation_alias="MEDLOFTE_WEB_SECRET")

    @classmethod
    def settings_customise_sources(  # pydantic-settings passes these by keyword: names kept
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what ``load_settings`` hands over: the variables named here, nothing picked up
        by a field's own name (``LANG`` is the locale, not ``MEDLOFTE_LANG``)."""
        return (init_settings,)

    @field_validator("token", "database_url", "clock", "webhook_url", "web_url", "web_secret",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @field_validator("base_url", mode="before")
    @classmethod
    def _default_api(cls, value: Any) -> Any:
        return value or DEFAULT_API

    @field_validator("configs", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> list[Path]:
        return [Path(p) for p in _comma_list(value)] or [Path(DEFAULT_CONFIG)]

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> frozenset[int]:
        parts = _comma_list(value)
        if any(not str(p).lstrip("-").isdigit() for p in parts):
            raise ValueError("admin ids are Telegram user ids: numbers separated by commas")
        return frozenset(int(p) for p in parts)

    @field_validator("names_kept_months", mode="before")
    @classmethod
    def _months(cls, value: Any) -> Any:
        if value in (None, ""):
            return 12
        if str(value).strip().lower() == "never":
            return None
        if not str(value).strip().isdigit():
            raise ValueError("a number of months (0 or more), or 'never'")
        return int(value)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("the public URL Telegram posts updates to, "
                             "e.g. https://medlofte.example.se/telegram")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any, info: ValidationInfo) -> str | None:
        value = value or None
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("required with MEDLOFTE_WEBHOOK_URL (1-256 characters: "
                                 "A-Z, a-z, 0-9, _ and -)")
            return None
        if not WEBHOOK_SECRET.match(str(value)):
            raise ValueError("1-256 characters: A-Z, a-z, 0-9, _ and -")
        return str(value)

    @field_validator("listen", mode="before")
    @classmethod
    def _listen(cls, value: Any) -> str:
        if value in (None, ""):
            return DEFAULT_LISTEN
        split_listen(str(value))
        return str(value)

    @field_validator("web_url", mode="after")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")) or "://" not in value[:8] or \
                len(value.split("://", 1)[1].strip("/")) == 0:
            raise ValueError("a base URL such as https://medlofte.example.se")
        return value.rstrip("/")

    @field_validator("web_secret", mode="after")
    @classmethod
    def _web_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("at least 32 characters (or unset: one is kept in the database)")
        return value

    def web_base(self) -> str | None:
        """The web view's public base URL: MEDLOFTE_WEB_URL; else the webhook URL's
        scheme://host[:port]; else None (no web view link: messages say it is not set up)."""
        if self.web_url:
            return self.web_url
        if not self.webhook_url:
            return None
        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    @field_validator("inbox_lease", "send_rate", mode="before")
    @classmethod
    def _seconds(cls, value: Any, info: ValidationInfo) -> float:
        default = 60.0 if info.field_name == "inbox_lease" else 30.0
        if value in (None, ""):
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("a number, e.g. 60 or 10.5") from None
        if number < 0 or (number == 0 and info.field_name == "inbox_lease"):
            raise ValueError("a positive number" if info.field_name == "inbox_lease"
                             else "0 or more (0: no overall pacing)")
        return number

    @field_validator("lang", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> str:
        if value in (None, ""):
            return "sv"
        if value not in ("sv", "en"):
            raise ValueError("sv or en")
        return str(value)

    def webhook_path(self) -> str | None:
        """The route Telegram posts to (the webhook URL's path), or None when polling."""
        if self.webhook_url is None:
            return None
        return urlsplit(self.webhook_url).path or "/"

    def serves_web(self) -> bool:
        """Whether the process serves the ASGI app: always with a webhook; beside long
        polling only when MEDLOFTE_LISTEN or MEDLOFTE_WEB_URL was set (tests start several
        polling bots; a web view whose links /webb hands out must be served)."""
        return self.webhook_url is not None or self.web_url is not None or \
            "listen" in self.model_fields_set

    def listen_address(self) -> tuple[str, int]:
        """MEDLOFTE_LISTEN as (host, port)."""
        return split_listen(self.listen)


def split_listen(value: str) -> tuple[str, int]:
    """"host:port" (an IPv6 host in brackets: "[::]:8080") as (host, port)."""
    host, colon, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
    return host, int(port)


ALIASES = {"token": "TELEGRAM_BOT_TOKEN", "base_url": "TELEGRAM_API_BASE_URL",
           "bot_username": "TELEGRAM_BOT_USERNAME", "database_url": "DATABASE_URL",
           "configs": "MEDLOFTE_CONFIG", "admin_ids": "MEDLOFTE_ADMIN_IDS",
           "clock": "MEDLOFTE_CLOCK", "lang": "MEDLOFTE_LANG",
           "names_kept_months": "MEDLOFTE_NAMES_KEPT_MONTHS",
           "webhook_url": "MEDLOFTE_WEBHOOK_URL", "webhook_secret": "MEDLOFTE_WEBHOOK_SECRET",
           "listen": "MEDLOFTE_LISTEN", "inbox_lease": "MEDLOFTE_INBOX_LEASE",
           "send_rate": "MEDLOFTE_SEND_RATE", "web_url": "MEDLOFTE_WEB_URL",
           "web_secret": "MEDLOFTE_WEB_SECRET"}


def read_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of this process: ``.env`` loaded into the environment first (values
    already set win), then ``load_settings``. Given ``env``, only that mapping is read."""
    if env is None:
        load_dotenv()
    return load_settings(env)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (the process environment by default); a wrong value raises
    ConfigError naming the variable."""
    source = os.environ if env is None else env
    # an empty variable is an unset one (.env.example lists them all, most empty)
    values = {alias: source[alias] for alias in ALIASES.values() if source.get(alias)}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        variable = ALIASES.get(field, field)
        if variable == "MEDLOFTE_ADMIN_IDS":
            raise ConfigError("admin_ids_invalid", value=source.get(variable, "")) from exc
        shown = "…" if variable == "MEDLOFTE_WEBHOOK_SECRET" else source.get(variable, "")
        raise ConfigError("settings_invalid", variable=variable, value=shown,
                          reason=first["msg"].removeprefix("Value error, ")) from exc
