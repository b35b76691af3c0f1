"""Command line for year after year: ``new-year``, ``clear-notes``, ``person``, ``backup``,
``restore``. ``cli.py`` registers these and renders their UserErrors."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from medlofte_bot import texts
from medlofte_bot.configuration import LoadedSet, load_many, load_promise_set
from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.errors import UserError
from medlofte_bot.next_year import default_output, next_year_text, outcome_lines
from medlofte_bot.planning.planner import plan_year
from medlofte_bot.services.records import clear_due, person_record
from medlofte_bot.services.report import YearReport, year_report
from medlofte_bot.services.status import year_over
from medlofte_bot.settings import Settings
from medlofte_bot.storage import backup as storage_backup
from medlofte_bot.storage.database import DEFAULT_SQLITE, Database, database_url
from medlofte_bot.views.person import person_text

COMMANDS = ("new-year", "backup", "restore", "person", "clear-notes")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The year-after-year subcommands."""
    new_year = sub.add_parser("new-year", help="write next year's promise-set file from this "
                                               "year's (rules kept, dates to confirm marked)")
    new_year.add_argument("file", type=Path, help="this year's promise-set TOML file")
    new_year.add_argument("year", type=int, help="the year to write, e.g. 2016")
    new_year.add_argument("--output", type=Path, metavar="FILE",
                          help="where to write (default: beside FILE, the year in its name)")
    new_year.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    new_year.add_argument("--seed", type=int, help="the new seed (default: a random one)")
    backup = sub.add_parser("backup", help="a consistent copy of DATABASE_URL while the bot "
                                           "runs (SQLite online backup; PostgreSQL pg_dump -Fc)")
    backup.add_argument("file", type=Path, help="the backup file to write (never over one)")
    restore = sub.add_parser("restore", help="put a backup back into DATABASE_URL, which must "
                                             "be empty")
    restore.add_argument("file", type=Path, help="a file written by backup")
    person = sub.add_parser("person", help="everything stored about one person")
    person.add_argument("--telegram-id", type=int, required=True, metavar="N")
    clear = sub.add_parser("clear-notes", help="clear now what the retention rules say is due "
                                               "(notes_kept_months, MEDLOFTE_NAMES_KEPT_MONTHS)")
    clear.add_argument("config", nargs="*", type=Path,
                       help="promise-set files whose notes_kept_months apply (default: the "
                            "rule stored with each applied year)")


def run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Run one of COMMANDS."""
    if args.command in ("backup", "restore"):
        return _copy(args, settings)
    if args.command in ("person", "clear-notes"):
        return _records(args, settings, clock)
    return _new_year(args, settings, clock)


def _records(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """person (read only) or clear-notes (one transaction), with clear words for a database
    that cannot be reached or a person who is not there."""
    lang = args.lang
    sets = {(s.promise_set.slug, s.promise_set.year): s.promise_set
            for s in load_many(args.config)} if args.command == "clear-notes" else {}
    db: Database | None = None
    try:
        db = Database(database_url(settings.database_url))
        db.migrate()
        if args.command == "person":
            with db.transaction(write=False) as session:
                record = person_record(session, args.telegram_id)
                text = person_text(record, lang) if record is not None else None
            if text is None:
                raise UserError("person.unknown", telegram_id=args.telegram_id,
                                url=_where(settings))
            sys.stdout.write(text)
            return 0
        with db.transaction() as session:
            cleared = clear_due(session, sets, clock.now(), settings.names_kept_months)
    except SQLAlchemyError as exc:
        print(texts.t("cli.db_error", lang, url=_where(settings), reason=type(exc).__name__),
              file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.dispose()
    if not (cleared.sets or cleared.names):
        print(texts.t("clear.nothing", lang, months=settings.names_kept_months or "-"))
    else:
        print(texts.t("clear.done", lang, notes=cleared.notes, reasons=cleared.reasons,
                      sets=", ".join(cleared.sets) or "-", audits=cleared.audits,
                      names=cleared.names))
    return 0


def _copy(args: argparse.Namespace, settings: Settings) -> int:
    """backup or restore; a database that cannot be reached is said in words."""
    lang = args.lang
    url = database_url(settings.database_url)
    try:
        if args.command == "backup":
            done = storage_backup.backup(url, args.file)
        else:
            done = storage_backup.restore(url, args.file)
    except SQLAlchemyError as exc:
        print(texts.t("cli.db_error", lang, url=_where(settings), reason=type(exc).__name__),
              file=sys.stderr)
        return 1
    print(texts.t(f"{args.command}.done", lang, file=done.file, size=done.size, tool=done.tool,
                  url=_where(settings)))
    return 0


def _where(settings: Settings) -> str:
    return (settings.database_url or DEFAULT_SQLITE).split("@")[-1]


def _stored_outcome(loaded: LoadedSet, settings: Settings, clock: Clock,
                    lang: str) -> YearReport | None:
    """Last year's report from the database when there is one; None (nothing created)
    when there is no database, nothing stored, or it cannot be reached."""
    if settings.database_url is None and not Path(DEFAULT_SQLITE.split("///")[1]).exists():
        return None
    db: Database | None = None
    try:
        db = Database(database_url(settings.database_url))
        db.migrate()
        with db.transaction(write=False) as session:
            return year_report(session, loaded.promise_set, clock.now())
    except SQLAlchemyError as exc:
        print(texts.t("cli.db_error", lang, url=_where(settings), reason=type(exc).__name__),
              file=sys.stderr)
        return None
    finally:
        if db is not None:
            db.dispose()


def _new_year(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Write next year's file beside this year's; check it as ``plan`` would."""
    lang = args.lang
    loaded = load_promise_set(args.file)
    ps = loaded.promise_set
    if args.year <= ps.year:
        raise UserError("new_year.not_later", file=str(args.file), have=ps.year, year=args.year)
    out: Path = args.output or default_output(args.file, ps.year, args.year)
    if out.exists() and not args.force:
        raise UserError("new_year.exists", file=str(out))
    now = clock.now()
    report = _stored_outcome(loaded, settings, clock, lang)
    file_lang = ps.language
    outcome = outcome_lines(report, ps, year_over(ps.year, ps.tz, now),
                            now.astimezone(ps.tz).date(), file_lang)
    header = texts.t("new_year.header", file_lang, year=args.year, old=ps.year,
                     today=now.astimezone(ps.tz).date().isoformat(),
                     source=args.file.name).split("\n")
    header.append(texts.t("new_year.header_outcome", file_lang, old=ps.year, year=args.year)
                  if report is not None else
                  texts.t("new_year.header_no_outcome", file_lang, old=ps.year,
                          where=_where(settings)))
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31 - 1) + 1
    written = next_year_text(loaded.path.read_text(encoding="utf-8"), ps, args.year, seed,
                             outcome, [*header, ""])
    # checked as `plan` would read it before it takes the name: a bad file is never left
    temporary = out.with_name(f".{out.name}.new")
    try:
        temporary.write_text(written.text, encoding="utf-8")
    except OSError as exc:
        raise UserError("new_year.unwritable", file=str(out),
                        reason=exc.strerror or str(exc)) from exc
    try:
        plan_year(load_promise_set(temporary).promise_set)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    print(texts.t("new_year.written", lang, file=out, moved=written.marked, old=ps.year,
                  promises=len(outcome), total=len(ps.promises)))
    return 0
