"""A coordinator's members and invites: /medlemmar, /avsluta, /roll, /inbjudningar,
/aterkalla and their buttons. Parse, call a use case, render, send; the use cases decide
who may do what (policy.can_manage, policy.can_invite).

Buttons: ``x:N`` asks to deactivate member N, ``xy:N`` confirms ("Ja, avsluta"), ``xn:N``
keeps them; ``ir:N`` revokes invite N. Member lists and invites (names of people) are shown
in private chats only.
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import actor_of, answering, call, is_private, reply
from medlofte_bot.chat.context import BotContext
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.invites import ROLE_WORDS
from medlofte_bot.domain.states import Role
from medlofte_bot.services.roster import InviteLine, MemberLine
from medlofte_bot.services.views import Actor

CALLBACK_PATTERN = r"^(x|xy|xn|ir):"
ID_DIGITS = 9  # below 2**31: a PostgreSQL integer
BUTTON_NAME_MAX = 24


def number(text: str) -> int | None:
    """A member's or invite's number as typed ("12" or "#12"): ASCII digits, bounded."""
    digits = text.strip().removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= ID_DIGITS:
        return int(digits)
    return None


def _detail(team: str | None, partner_role: str | None) -> str:
    part = team or partner_role
    return f", {part}" if part else ""


def member_line(line: MemberLine, lang: str) -> str:
    """'#12 Olle – polis, Arvidsjaur lag 1'."""
    flags = (texts.t("members.you", lang) if line.is_asker else "") + (
        texts.t("members.unreachable", lang) if line.unreachable else "")
    return texts.t("members.line", lang, id=line.id, name=line.name,
                   role=texts.t(f"role.{line.role}", lang),
                   detail=_detail(line.team, line.partner_role), flags=flags)


def _keyboard(buttons: list[InlineKeyboardButton]) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup([[b] for b in buttons]) if buttons else None


def members_messages(lines: list[MemberLine], lang: str
                     ) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The roster by municipality, one ✖️ button per member (not the asker), in as many
    messages as it takes."""
    if not lines:
        return [(texts.t("members.none", lang), None)]
    items: list[tuple[str, MemberLine | None]] = [
        (texts.t("members.title", lang, count=len(lines)), None)]
    heading: object = object()
    for line in lines:
        if line.municipality != heading:
            heading = line.municipality
            items += [("", None), (line.municipality
                                   or texts.t("members.no_municipality", lang), None)]
        items.append((member_line(line, lang), None if line.is_asker else line))
    items += [("", None), (texts.t("members.hint", lang), None)]
    return [(text, _keyboard([InlineKeyboardButton(
        texts.t("button.remove_member", lang, id=x.id, name=x.name[:BUTTON_NAME_MAX]),
        callback_data=f"x:{x.id}") for x in marked])) for text, marked in render.pack(items)]


def invite_line(line: InviteLine, lang: str) -> str:
    """'#7 partner, Alkoholhandläggare, Pia – skapad … av Cora, gäller till … (kod AbC123…)'."""
    detail = _detail(line.team, line.partner_role) + (f", {line.name}" if line.name else "")
    return texts.t("invites.line", lang, id=line.id, role=texts.t(f"role.{line.role}", lang),
                   detail=detail, created=texts.when(line.created_at, lang),
                   by=line.by or texts.t("invites.by_cli", lang),
                   expires=texts.short_day(line.expires_at.date(), lang), code=line.code_start)


def invites_messages(lines: list[InviteLine], lang: str
                     ) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The open invites, one ↩️ button each, in as many messages as it takes."""
    if not lines:
        return [(texts.t("invites.none", lang), None)]
    items: list[tuple[str, InviteLine | None]] = [
        (texts.t("invites.title", lang, count=len(lines)), None), ("", None)]
    items += [(invite_line(x, lang), x) for x in lines]
    items += [("", None), (texts.t("invites.hint", lang), None)]
    return [(text, _keyboard([InlineKeyboardButton(
        texts.t("button.revoke", lang, id=x.id), callback_data=f"ir:{x.id}") for x in marked]))
            for text, marked in render.pack(items)]


async def _language(context: BotContext, actor: Actor) -> str:
    return (await call(context.usecases.whoami, actor)).language


async def _private(update: Update, context: BotContext) -> Actor | None:
    """The sender, in a private chat; in a group they are told to ask in private (strangers
    get nothing there) and None is returned."""
    actor = actor_of(update)
    if actor is None or is_private(update):
        return actor
    async with answering(update, context):
        await reply(update, texts.t("members.private_only", await _language(context, actor)))
    return None


async def on_members(update: Update, context: BotContext) -> None:
    """/medlemmar: the active members of the coordinator's area, numbered, with buttons."""
    actor = await _private(update, context)
    if actor is None:
        return
    async with answering(update, context):
        answer = await call(context.usecases.members, actor)
        for text, markup in members_messages(answer.value, answer.member.language):
            await reply(update, text, reply_markup=markup)


async def _deactivate(update: Update, context: BotContext, actor: Actor, member_id: int
                      ) -> None:
    answer = await call(context.usecases.deactivate, actor, member_id)
    line = answer.value
    await reply(update, texts.t("removed", answer.member.language, id=line.id, name=line.name))


async def on_remove(update: Update, context: BotContext) -> None:
    """/avsluta NR: deactivate a member of the area at once."""
    actor = await _private(update, context)
    if actor is None:
        return
    async with answering(update, context):
        member_id = number((context.args or [""])[0])
        if member_id is None:
            raise UserError("member_id_missing", example="/avsluta 12").with_lang(
                await _language(context, actor))
        await _deactivate(update, context, actor, member_id)


async def on_role(update: Update, context: BotContext) -> None:
    """/roll NR ROLL [lag|partnerroll] [kommun]: change a member's role, team or partner role."""
    actor = await _private(update, context)
    if actor is None:
        return
    async with answering(update, context):
        args = list(context.args or [])
        member_id = number(args[0]) if args else None
        if member_id is None or len(args) < 2:  # the number and the role
            raise UserError("role_usage").with_lang(await _language(context, actor))
        role, rest = args[1], args[2:]
        kind = ROLE_WORDS.get(role.lower())
        team = rest.pop(0) if rest and kind == Role.OFFICER else None
        partner_role = rest.pop(0) if rest and kind == Role.PARTNER else None
        municipality = rest.pop(0) if rest else None
        answer = await call(context.usecases.change_role, actor, member_id, role, team,
                            partner_role, municipality)
        before, after, lang = answer.value.before, answer.value.after, answer.member.language
        await reply(update, texts.t(
            "role_changed", lang, id=after.id, name=after.name,
            role=texts.t(f"role.{after.role}", lang),
            detail=_detail(after.team, after.partner_role),
            before_role=texts.t(f"role.{before.role}", lang),
            before_detail=_detail(before.team, before.partner_role)))


async def on_invites(update: Update, context: BotContext) -> None:
    """/inbjudningar: the area's unused invites, each with a revoke button."""
    actor = await _private(update, context)
    if actor is None:
        return
    async with answering(update, context):
        answer = await call(context.usecases.open_invites, actor)
        for text, markup in invites_messages(answer.value, answer.member.language):
            await reply(update, text, reply_markup=markup)


async def _revoke(update: Update, context: BotContext, actor: Actor, ref: str) -> None:
    answer = await call(context.usecases.revoke_invite, actor, ref)
    line, lang = answer.value, answer.member.language
    await reply(update, texts.t("revoked", lang, id=line.id,
                                role=texts.t(f"role.{line.role}", lang),
                                detail=_detail(line.team, line.partner_role)))


async def on_revoke(update: Update, context: BotContext) -> None:
    """/aterkalla NR|KOD: revoke an unused invite of the area."""
    actor = await _private(update, context)
    if actor is None:
        return
    async with answering(update, context):
        if not context.args:
            raise UserError("revoke_usage").with_lang(await _language(context, actor))
        await _revoke(update, context, actor, context.args[0])


async def on_member_button(update: Update, context: BotContext) -> None:
    """✖️ Avsluta, Ja avsluta, Avbryt, ↩️ Återkalla: the work first, then the query's answer."""
    query, actor = update.callback_query, actor_of(update)
    if query is None or actor is None:
        return
    try:
        if not is_private(update):
            return  # these buttons are only ever sent in private chats
        async with answering(update, context):
            action, _, rest = (query.data or "").partition(":")
            target = number(rest)
            if target is None:
                raise UserError("member_id_missing", example="/medlemmar").with_lang(
                    await _language(context, actor))
            if action == "x":
                await _ask_deactivate(update, context, actor, target)
            elif action == "xy":
                await _deactivate(update, context, actor, target)
            elif action == "xn":
                await reply(update, texts.t("remove.kept", await _language(context, actor)))
            else:
                await _revoke(update, context, actor, str(target))
    finally:
        with contextlib.suppress(TelegramError):  # too old to answer: the work is done
            await query.answer()


async def _ask_deactivate(update: Update, context: BotContext, actor: Actor,
                          member_id: int) -> None:
    answer = await call(context.usecases.member_to_deactivate, actor, member_id)
    line, lang = answer.value, answer.member.language
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("button.confirm_remove", lang),
                             callback_data=f"xy:{line.id}"),
        InlineKeyboardButton(texts.t("button.keep", lang), callback_data=f"xn:{line.id}")]])
    await reply(update, texts.t("remove.confirm", lang, id=line.id, name=line.name,
                                role=texts.t(f"role.{line.role}", lang),
                                detail=_detail(line.team, line.partner_role)),
                reply_markup=markup)
