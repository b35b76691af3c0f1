"""Command line: ``python -m medlofte_bot plan|invite|report|calendar|login-link|migrate|new-year|
backup ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from medlofte_bot import cli_year, texts
from medlofte_bot.configuration import LoadedSet, load_many
from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.invites import (
    Catalogue,
    InviteSpec,
    catalogues,
    check_invite,
    read_invite_csv,
)
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.planning.planner import plan_area
from medlofte_bot.scheduling.clock import clock_from_setting
from medlofte_bot.services.members import store_invite
from medlofte_bot.services.plans import ApplyResult, apply_promise_set, stored_tasks
from medlofte_bot.services.report import year_report
from medlofte_bot.settings import Settings, read_settings
from medlofte_bot.storage.database import Database, database_url, head_revision
from medlofte_bot.views.plan_views import plan_ics, plan_json, plan_table, tasks_ics
from medlofte_bot.views.year_report import render_report

EXIT_USAGE = 2
LOCAL_WEB = "http://127.0.0.1:8080"  # MEDLOFTE_LISTEN's default, when no public URL is set
T = TypeVar("T")


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m medlofte_bot")
    parser.add_argument("--lang", choices=texts.LANGUAGES, default=settings.lang)
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan a promise set's year")
    plan.add_argument("config", nargs="+", type=Path, help="promise-set TOML file(s) or a folder")
    plan.add_argument("--year", type=int)
    plan.add_argument("--json", action="store_true", help="the plan as JSON on stdout")
    plan.add_argument("--ics", type=Path, metavar="FILE", help="write an iCalendar file")
    plan.add_argument("--include-police-only", action="store_true")
    plan.add_argument("--apply", action="store_true", help="store the plan in DATABASE_URL")
    demo = sub.add_parser("demo", help="play a year offline against the built-in emulator")
    demo.add_argument("config", nargs="?", type=Path, default=Path("config/arvidsjaur-2015.toml"))
    invite = sub.add_parser("invite", help="single-use invites (prints code and link)")
    invite.add_argument("--role", help="officer|partner|chief|coordinator (or polis, chef…)")
    invite.add_argument("--team")
    invite.add_argument("--municipality")
    invite.add_argument("--partner-role")
    invite.add_argument("--name", help="whom the invite is for (shown to coordinators)")
    invite.add_argument("--csv", type=Path, metavar="FILE",
                        help="one invite per row: role,team,municipality,partner_role,name")
    invite.add_argument("--config", nargs="+", type=Path,
                        help="promise-set file(s) or folder to check against "
                             "(default: MEDLOFTE_CONFIG)")
    report = sub.add_parser("report", help="the stored year's report for the council")
    report.add_argument("config", nargs="+", type=Path, help="promise-set TOML file(s) or a folder")
    report.add_argument("--year", type=int)
    report.add_argument("--format", choices=["md", "html", "pdf", "csv"], default="md")
    report.add_argument("--output", type=Path, metavar="FILE", help="write to FILE, not stdout")
    report.add_argument("--internal", action="store_true",
                        help="the internal version: police-only times, names and notes "
                             "(default: the public version, fit to publish)")
    calendar = sub.add_parser("calendar", help="the stored year as an iCalendar file "
                                               "(moves and cancellations included)")
    calendar.add_argument("config", nargs="+", type=Path,
                          help="promise-set TOML file(s) or a folder")
    calendar.add_argument("--year", type=int)
    calendar.add_argument("--output", type=Path, metavar="FILE", required=True)
    calendar.add_argument("--include-police-only", action="store_true")
    sub.add_parser("migrate", help="bring DATABASE_URL's schema to the newest revision and "
                                   "exit (the one-shot step before the bot replicas start)")
    login = sub.add_parser("login-link", help="a one-time login link to the web view "
                                              "(valid 10 minutes, works once)")
    login.add_argument("--telegram-id", type=int, required=True, metavar="N")
    cli_year.add_parsers(sub)
    return parser


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate and say to which revision; 1 (and why) when the database cannot be reached,
    so a deployment waiting for this step to succeed does not start the bot."""
    url = database_url(settings.database_url)
    where = url.split("@")[-1]
    db: Database | None = None
    try:
        db = _open(settings)
        revision = head_revision()
    except SQLAlchemyError as exc:
        print(texts.t("cli.db_error", args.lang, url=where, reason=type(exc).__name__),
              file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.dispose()
    print(texts.t("cli.migrated", args.lang, url=where, revision=revision))
    return 0


def _demo(args: argparse.Namespace) -> int:
    import asyncio
    import importlib.util
    from datetime import datetime, timedelta

    if importlib.util.find_spec("botapi_emulator") is None:
        print(texts.t("cli.demo_needs_emulator", args.lang), file=sys.stderr)
        return EXIT_USAGE
    from medlofte_bot.demo.runner import play

    ps = load_many([args.config])[0].promise_set
    start = datetime(ps.year, 1, 1, 6, 0, tzinfo=ps.tz)
    until = datetime(ps.year + 1, 1, 9, tzinfo=ps.tz) - timedelta(seconds=1)
    asyncio.run(play(args.config, start, until, sys.stdout, workdir=Path("data")))
    return 0


def _open(settings: Settings) -> Database:
    db = Database(database_url(settings.database_url))
    try:
        db.migrate()
    except BaseException:
        db.dispose()
        raise
    return db


def _invite(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """One invite (--role …) or one per row of --csv FILE; every reference is checked
    against the promise sets first, and nothing is stored unless all rows are right."""
    lang = args.lang
    loaded = load_many(args.config or settings.configs)
    sets = {(s.promise_set.slug, s.promise_set.year): s.promise_set for s in loaded}
    known = catalogues(sets.values())
    if args.csv is not None:
        if args.role is not None:
            raise UserError("cli.invite_csv_or_role")
        specs = _csv_specs(args.csv, known, lang)
        if specs is None:
            return EXIT_USAGE
    elif args.role is None:
        raise UserError("cli.invite_csv_or_role")
    else:
        specs = [check_invite(known, args.role, team=args.team, municipality=args.municipality,
                              partner_role=args.partner_role, name=args.name)]
    db = _open(settings)
    try:
        made = []
        with db.transaction() as session:  # all rows or none
            for spec in specs:
                invite = store_invite(session, sets, spec, clock.now())
                made.append((spec.name, invite.code, invite.expires_at))
    finally:
        db.dispose()
    username = settings.bot_username
    if args.csv is None:
        _, code, expires = made[0]
        print(texts.t("cli.invite", lang, code=code, link=f"https://t.me/{username}?start={code}",
                      expires=expires.date().isoformat()))
        return 0
    for name, code, _ in made:
        print(texts.t("cli.invite_line", lang, name=name,
                      link=f"https://t.me/{username}?start={code}"))
    print(texts.t("cli.invites_made", lang, count=len(made),
                  expires=made[0][2].date().isoformat()), file=sys.stderr)
    return 0


def _csv_specs(path: Path, known: dict[str, Catalogue], lang: str) -> list[InviteSpec] | None:
    """The checked rows of an invite file, or None after printing every problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError("config_unreadable", file=str(path),
                        reason=getattr(exc, "strerror", None) or str(exc)) from exc
    specs, problems = read_invite_csv(text, known)
    if not problems:
        return specs
    for p in problems:
        message = texts.t(p.error.key, lang, **p.error.params)
        print(texts.t("cli.invite_csv_problem", lang, file=path, row=p.row, column=p.column,
                      message=message), file=sys.stderr)
    print(texts.plural("cli.invite_csv_nothing", len(problems), lang), file=sys.stderr)
    return None


def _read_stored(sets: Sequence[LoadedSet], settings: Settings, lang: str,
                 read: Callable[[Session, LoadedSet], T | None]
                 ) -> list[tuple[LoadedSet, T]] | None:
    """``read`` each set's stored year in one transaction: None after printing a database
    error; a set with nothing stored is a UserError that says to apply it first."""
    where = database_url(settings.database_url).split("@")[-1]
    db: Database | None = None
    try:
        db = _open(settings)
        with db.transaction(write=False) as session:
            found = [(s, read(session, s)) for s in sets]
    except SQLAlchemyError as exc:
        print(texts.t("cli.db_error", lang, url=where, reason=type(exc).__name__),
              file=sys.stderr)
        return None
    finally:
        if db is not None:
            db.dispose()
    out = []
    for s, value in found:
        if value is None:
            raise UserError("report.no_data", municipality=s.promise_set.municipality,
                            year=s.promise_set.year, url=where, file=s.path)
        out.append((s, value))
    return out


def _report(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    sets, lang = load_many(args.config, args.year), args.lang
    found = _read_stored(sets, settings, lang,
                         lambda session, s: year_report(session, s.promise_set, clock.now()))
    if found is None:
        return 1
    data = render_report([report for _, report in found], args.format, lang,
                         public=not args.internal)
    if args.output:
        args.output.write_bytes(data)
        print(texts.t("report.written_internal" if args.internal else "report.written", lang,
                      file=args.output))
    elif args.format == "pdf":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _calendar(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """The stored year of each set (what was done, moved and cancelled) as one calendar."""
    sets, lang = load_many(args.config, args.year), args.lang
    found = _read_stored(sets, settings, lang,
                         lambda session, s: stored_tasks(session, s.promise_set))
    if found is None:
        return 1
    events = [(s.promise_set, task, changed) for s, stored in found for task, changed in stored]
    title = texts.t("calendar.title", lang, year=sets[0].promise_set.year,
                    municipalities=", ".join(s.promise_set.municipality for s in sets))
    data, left_out = tasks_ics(title, events, clock.now(), args.include_police_only, lang)
    args.output.write_bytes(data)
    print(texts.t("plan.ics_written", lang, count=len(events) - left_out, file=args.output))
    _say_left_out(left_out, args.include_police_only, [s.promise_set for s in sets], lang)
    return 0


def _login_link(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """A one-time web view login link for an active member, printed with its expiry."""
    from medlofte_bot.services.context import ServiceContext
    from medlofte_bot.services.web import WebAccess

    lang = args.lang
    base = settings.web_base()
    if base is None:
        base = LOCAL_WEB
        print(texts.t("cli.login_link_no_url", lang, base=base), file=sys.stderr)
    db = _open(settings)
    try:
        link = WebAccess(ServiceContext(db, {}, clock)).login_link(args.telegram_id)
    finally:
        db.dispose()
    expires = link.expires_at.astimezone(ZoneInfo("Europe/Stockholm"))
    print(texts.t("cli.login_link", lang, name=link.member.name,
                  expires=texts.when(expires, lang), link=f"{base}/webb/logga-in/{link.token}"))
    return 0


def _say_left_out(left_out: int, asked: bool, sets: list[PromiseSet], lang: str) -> None:
    """How many police-only tasks a calendar file left out, and why."""
    if not left_out:
        return
    web = asked and any(ps.secret_details != "chat" for ps in sets)
    print(texts.t("plan.ics_police_web" if web else "plan.ics_police_left_out", lang,
                  count=left_out))


def _print_apply(result: ApplyResult, lang: str, out: Callable[[str], None]) -> None:
    if result.unchanged:
        out(texts.t("apply.unchanged", lang, municipality=result.municipality,
                    year=result.year, count=result.kept))
        return
    for t in result.added:
        out(texts.t("apply.added", lang, key=t.key, when=texts.when(t.start, lang), team=t.team))
    for before, after in result.updated:
        out(texts.t("apply.updated", lang, key=after.key,
                    before=f"{texts.when(before.start, lang)} {before.team}",
                    after=f"{texts.when(after.start, lang)} {after.team}"))
    for t in result.cancelled:
        out(texts.t("apply.cancelled", lang, key=t.key, when=texts.when(t.start, lang)))
    out(texts.t("apply.summary", lang, municipality=result.municipality, year=result.year,
                added=len(result.added), updated=len(result.updated),
                cancelled=len(result.cancelled), kept=result.kept))


def apply_sets(sets: Sequence[LoadedSet], settings: Settings, clock: Clock
               ) -> list[ApplyResult]:
    """Apply promise sets to the database in one transaction: all or nothing."""
    db = _open(settings)
    try:
        with db.transaction() as session:
            return [apply_promise_set(session, s, clock.now(), actor="cli") for s in sets]
    finally:
        db.dispose()


def _plan(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    sets = load_many(args.config, args.year)
    lang = args.lang
    plans = plan_area([s.promise_set for s in sets])
    if args.json:
        docs = [plan_json(plan, s.promise_set) for s, plan in zip(sets, plans, strict=True)]
        doc = docs[0] if len(docs) == 1 else docs
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    for s, plan in zip(sets, plans, strict=True):
        if args.ics:
            data, left_out = plan_ics(plan, s.promise_set, clock.now(), args.include_police_only,
                                      lang)
            args.ics.write_bytes(data)
            print(texts.t("plan.ics_written", lang, count=len(plan.tasks) - left_out,
                          file=args.ics))
            _say_left_out(left_out, args.include_police_only, [s.promise_set], lang)
        elif not args.apply:
            print(plan_table(plan, s.promise_set, lang))
    if args.apply:
        url = settings.database_url
        try:
            results = apply_sets(sets, settings, clock)
        except SQLAlchemyError as exc:
            print(texts.t("cli.db_error", lang, url=database_url(url).split("@")[-1],
                          reason=type(exc).__name__), file=sys.stderr)
            return 1
        for result in results:
            _print_apply(result, lang, print)
    return 0


def main(argv: Sequence[str] | None = None, clock: Clock | None = None,
         settings: Settings | None = None) -> int:
    """Run the command line; expected errors print one clear message and return 2."""
    try:
        settings = settings or read_settings()
    except UserError as exc:
        print(texts.t("cli.error", "sv", message=texts.t(exc.key, "sv", **exc.params)),
              file=sys.stderr)
        return EXIT_USAGE
    args = _parser(settings).parse_args(argv)
    lang = args.lang
    try:
        clock = clock or clock_from_setting(settings.clock)
        if args.command == "plan":
            return _plan(args, settings, clock)
        if args.command == "demo":
            return _demo(args)
        if args.command == "invite":
            return _invite(args, settings, clock)
        if args.command == "report":
            return _report(args, settings, clock)
        if args.command == "migrate":
            return _migrate(args, settings)
        if args.command == "calendar":
            return _calendar(args, settings, clock)
        if args.command == "login-link":
            return _login_link(args, settings, clock)
        if args.command in cli_year.COMMANDS:
            return cli_year.run(args, settings, clock)
    except UserError as exc:
        message = texts.t(exc.key, lang, **exc.params)
        if exc.params.get("more"):
            message += texts.t("config_invalid_more", lang, more=exc.params["more"])
        print(texts.t("cli.error", lang, message=message), file=sys.stderr)
        if exc.key.startswith("config"):
            print(texts.t("config_error_footer", lang), file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE
