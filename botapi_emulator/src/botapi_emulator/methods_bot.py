"""Bot API handlers about the bot itself: commands, webhook, chats, files, close/logOut."""

from __future__ import annotations

import re
from typing import Any

from botapi_emulator.methods import Call, handler, resolve_chat
from botapi_emulator.records import JSON, bad_request
from botapi_emulator.state import EmulatorState, scope_key

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


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
    emu.webhook_url = ""
    if call.params.get("drop_pending_updates"):
        emu._updates.clear()
    return True


@handler("setWebhook")
async def set_webhook(emu: EmulatorState, call: Call) -> bool:
    """Store the webhook URL (nothing is ever posted to it)."""
    emu.webhook_url = str(call.params.get("url") or "")
    if call.params.get("drop_pending_updates"):
        emu._updates.clear()
    return True


@handler("getWebhookInfo")
async def get_webhook_info(emu: EmulatorState, _call: Call) -> JSON:
    """Return the webhook URL and the number of pending updates."""
    return {
        "url": emu.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(emu._updates),
    }


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
