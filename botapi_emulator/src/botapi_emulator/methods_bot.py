"""Bot API handlers about the bot itself: commands, webhook, chats, files, close/logOut."""

from __future__ import annotations

import re
from typing import Any

from botapi_emulator.methods import Call, handler, resolve_chat
from botapi_emulator.records import JSON, bad_request
from botapi_emulator.state import EmulatorState, scope_key
from botapi_emulator.webhook import WebhookConfig

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _scope_and_language(call: Call) -> tuple[str, str]:
    scope = call.params.get("scope")
    if scope is not None and not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    return scope_key(scope), str(call.params.get("language_code") or "")


@handler("setMyCommands")
async def set_my_commands(emu: EmulatorState, call: Call) -> bool:
    """Store the command list for (scope, language_code)."""
    commands = call.params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    cleaned: list[JSON] = []
    for cmd in commands:
        name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
        if not _COMMAND_NAME.match(name.lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(cmd.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name.lower(), "description": description})
    key = _scope_and_language(call)
    if cleaned:
        emu.commands[key] = cleaned
    else:
        emu.commands.pop(key, None)
    emu._notify()
    return True


@handler("getMyCommands")
async def get_my_commands(emu: EmulatorState, call: Call) -> list[JSON]:
    """Return the command list stored for (scope, language_code), or []."""
    return list(emu.commands.get(_scope_and_language(call), []))


@handler("deleteMyCommands")
async def delete_my_commands(emu: EmulatorState, call: Call) -> bool:
    """Delete the command list of (scope, language_code)."""
    emu.commands.pop(_scope_and_language(call), None)
    emu._notify()
    return True


@handler("deleteWebhook")
async def delete_webhook(emu: EmulatorState, call: Call) -> bool:
    """Remove the webhook; drop_pending_updates=True forgets pending updates."""
    emu.webhook.delete()
    if call.params.get("drop_pending_updates"):
        emu.webhook.drop_pending()
    return True


@handler("setWebhook")
async def set_webhook(emu: EmulatorState, call: Call) -> bool:
    """Store the webhook and start POSTing updates to it (an empty url removes it).

    Like Telegram's server in --local mode, http:// and any port are accepted.
    """
    p = call.params
    url = str(p.get("url") or "")
    if p.get("drop_pending_updates"):
        emu.webhook.drop_pending()
    if not url:
        emu.webhook.delete()
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = p.get("secret_token")
    if secret is not None and not _SECRET.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    try:
        max_connections = int(p.get("max_connections") or 40)
    except (TypeError, ValueError):
        raise bad_request("wrong parameter max_connections") from None
    allowed = p.get("allowed_updates")
    if isinstance(allowed, list):
        emu.allowed_updates = [str(a) for a in allowed] or None
    emu.webhook.set(WebhookConfig(url, str(secret) if secret else None,
                                  min(100, max(1, max_connections))))
    return True


@handler("getWebhookInfo")
async def get_webhook_info(emu: EmulatorState, _call: Call) -> JSON:
    """Return the WebhookInfo: url, pending updates, the last delivery error, the settings."""
    return emu.webhook.info()


@handler("getChat")
async def get_chat(emu: EmulatorState, call: Call) -> JSON:
    """Return a ChatFullInfo for a known chat."""
    chat = resolve_chat(emu, call.params.get("chat_id"))
    info = chat.to_json()
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
    )
    return info


@handler("getFile")
async def get_file(emu: EmulatorState, call: Call) -> JSON:
    """Return a File whose file_path can be downloaded below base_file_url."""
    stored = emu.files.get(str(call.params.get("file_id") or ""))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


@handler("close")
async def close(_emu: EmulatorState, _call: Call) -> bool:
    """Pretend to close the bot instance."""
    return True


@handler("logOut")
async def log_out(_emu: EmulatorState, _call: Call) -> bool:
    """Pretend to log out from the cloud Bot API server."""
    return True


async def _store_setting(emu: EmulatorState, call: Call) -> bool:
    lang = str(call.params.get("language_code") or "")
    values: dict[str, Any] = {k: v for k, v in call.params.items() if k != "language_code"}
    emu.bot_settings[f"{call.method}:{lang}" if lang else call.method] = values
    return True


for _name in ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton"):
    handler(_name)(_store_setting)
