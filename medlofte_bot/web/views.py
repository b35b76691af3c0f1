"""Page values to HTML (through the templates) and the feed to iCalendar: no database here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from importlib.resources import files
from itertools import groupby
from typing import Any

from medlofte_bot import texts
from medlofte_bot.services.webpages import AreaPage, Feed, MonthPage, ReportPage, SummariesPage
from medlofte_bot.services.webpages import TaskPage as TaskPageValue
from medlofte_bot.views.plan_views import tasks_ics
from medlofte_bot.views.report_document import build_documents
from medlofte_bot.views.year_report import html_articles
from medlofte_bot.web import render

CHART_MAX_MUNICIPALITIES = 12  # beyond, a panel per municipality helps no one: the tables do
STYLESHEET = files("medlofte_bot.web").joinpath("static/style.css").read_text("utf-8")


def _role(chrome: Mapping[str, Any]) -> str:
    member = chrome["member"]
    return texts.t(f"role.{member.role}", member.language)


def area(page: AreaPage, chrome: Mapping[str, Any]) -> str:
    """The area page: a table per municipality, the chart, the calendar feed."""
    lang = page.member.language
    today = page.now.astimezone(page.tz).date()
    groups = [(name, list(rows)) for name, rows in groupby(page.rows,
                                                          key=lambda r: r.municipality)]
    title = texts.t("summary.chart_caption", lang, year=today.year, date=texts.day(today, lang))
    drawn = any(r.target for r in page.rows) and len(groups) <= CHART_MAX_MUNICIPALITIES
    chart = render.chart_svg(page.rows, lang, title, texts.t("web.chart_desc", lang)) \
        if drawn else ""
    return render.page("area.html", lang, active="area", title=texts.t("web.area.title", lang),
                       groups=groups, chart=chart, page=page, role_word=_role(chrome),
                       no_chart=len(groups) > CHART_MAX_MUNICIPALITIES,
                       chart_max=CHART_MAX_MUNICIPALITIES,
                       state_word=lambda row, joint=False: render.state_word(row, lang, joint),
                       is_bad=render.is_bad, **chrome)


def month(page: MonthPage, chrome: Mapping[str, Any]) -> str:
    """The month: the days that have tasks, each task a link to its page."""
    lang = page.member.language
    first = page.first
    before = (first - timedelta(days=1)).replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    days = [(d, list(ts)) for d, ts in groupby(page.tasks, key=lambda t: t.start.date())]
    months = [date(first.year, n, 1) for n in range(1, 13)]
    return render.page("month.html", lang, active="calendar",
                       title=texts.t("web.calendar.title", lang, month=texts.month(first, lang)),
                       days=days, months=months, first=first, before=before, after=after,
                       several=len({t.municipality for t in page.tasks}) > 1,
                       role_word=_role(chrome), **chrome)


def task(page: TaskPageValue, chrome: Mapping[str, Any]) -> str:
    """One task and its history."""
    lang = page.member.language
    view = page.task
    return render.page("task.html", lang, active="calendar",
                       title=texts.t("web.task.title", lang, id=view.id,
                                     kind=texts.kind(view.kind, lang, view.title)
                                     + (f": {view.label}" if view.label else "")),
                       page=page, view=view, role_word=_role(chrome),
                       history_text=lambda entry: history_text(entry, lang), **chrome)


def history_text(entry: Any, lang: str) -> str:
    """One history line in words."""
    if entry.action == "reminder":
        what = texts.t("web.history.reminder", lang, kind=texts.label("web.reminder", entry.kind,
                                                                      lang))
        return texts.t("web.history.to", lang, what=what, who=entry.who) if entry.who else what
    if entry.action == "moved" and entry.before and entry.after:
        what = texts.t("web.history.moved", lang, before=texts.when(entry.before, lang),
                       after=texts.when(entry.after, lang))
    elif texts.has(f"web.history.{entry.action}"):
        what = texts.t(f"web.history.{entry.action}", lang)
    else:
        what = texts.t("web.history.other", lang, action=entry.action.replace("_", " "))
    if entry.counters:
        what += ": " + texts.counters(dict(entry.counters), lang)
    if entry.text:
        what += f" ({entry.text})"
    return texts.t("web.history.by", lang, what=what, who=entry.who) if entry.who else what


def summaries(page: SummariesPage, chrome: Mapping[str, Any]) -> str:
    """The Monday summaries as they were sent."""
    lang = page.member.language
    return render.page("summaries.html", lang, active="summaries",
                       title=texts.t("web.summaries.title", lang), page=page,
                       role_word=_role(chrome), **chrome)


def report(page: ReportPage, chrome: Mapping[str, Any]) -> str:
    """The year report, public or internal, inside the page (its headings one level down)."""
    lang = page.member.language
    body = html_articles(build_documents(page.reports, page.public, lang), shift=1) \
        if page.reports else ""
    year = page.year if page.year is not None else "–"
    return render.page("report.html", lang, active="report",
                       title=texts.t("web.report.title", lang, year=year), page=page,
                       body=body, role_word=_role(chrome), **chrome)


def feed_ics(feed: Feed, now: datetime) -> bytes:
    """The personal feed as iCalendar (what the policy let through: every event kept)."""
    data, _ = tasks_ics(texts.t("web.feed.calendar_name", feed.lang), list(feed.events), now,
                        include_police_only=True, lang=feed.lang)
    return data


def login_needed(lang: str) -> str:
    """The page for a visitor without a session: how to get a login link."""
    return render.page("login_needed.html", lang, title=texts.t("web.login_title", lang))


def login_form(lang: str, action: str) -> str:
    """The one-time link's page: a button that spends it."""
    return render.page("login.html", lang, title=texts.t("web.login_title", lang),
                       action=action)


def logged_out(lang: str) -> str:
    """After logout."""
    return render.page("logged_out.html", lang, title=texts.t("web.logged_out", lang))


def problem(lang: str, key: str, params: Mapping[str, Any]) -> str:
    """An expected failure's page (a link that is used, a page that is not there)."""
    return render.page("problem.html", lang, title=texts.t("web.error.title", lang),
                       message=texts.t(key, lang, **params))
