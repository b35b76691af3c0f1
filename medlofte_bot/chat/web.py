"""/webb: a one-time login link to the web view, always in the member's private chat."""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update

from medlofte_bot import texts
from medlofte_bot.chat.common import actor_of, answering, call, is_private, reply
from medlofte_bot.chat.context import BotContext

# no preview: Telegram's preview robot would fetch the link (the GET spends nothing, but
# the link is one person's and stays out of any other fetch)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def on_web(update: Update, context: BotContext) -> None:
    """/webb: a login link valid 10 minutes, once; asked in a group, it goes to private."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        member = await call(context.usecases.whoami, actor)
        lang, base, access = member.language, context.deps.web_base, context.deps.web
        if base is None or access is None:
            await reply(update, texts.t("web.not_set_up", lang))
            return
        link = await call(access.login_link, actor.telegram_id)
        to = None
        if not is_private(update):
            await reply(update, texts.t("answered_privately", lang))
            to = member.telegram_id
        await reply(update, texts.t("web.link", lang, link=f"{base}/webb/logga-in/{link.token}"),
                    to=to, link_preview_options=NO_PREVIEW)
