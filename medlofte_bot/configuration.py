"""Loading promise sets from TOML, with one clear message per bad file."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from medlofte_bot.domain.errors import ConfigError
from medlofte_bot.domain.promise_set import PromiseSet


@dataclass(frozen=True)
class LoadedSet:
    """A validated promise set, the file it came from and a digest of its content."""

    path: Path
    promise_set: PromiseSet
    digest: str


def _key_path(data: object, loc: tuple[int | str, ...]) -> str:
    """``promises[2] (krogtillsyn).joint.count`` from pydantic's location tuple."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({node['id']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


_REFERENCE = re.compile(r"promise '([^']+)' names unknown (team|partner role)")


def _reference_path(data: object, message: str) -> str | None:
    """Where a cross-reference error (checked on the whole set) belongs: the promise's key."""
    match = _REFERENCE.search(message)
    promises = data.get("promises") if isinstance(data, dict) else None
    if not match or not isinstance(promises, list):
        return None
    for i, promise in enumerate(promises):
        if isinstance(promise, dict) and promise.get("id") == match[1]:
            field = "teams" if match[2] == "team" else ("joint" if "joint" in promise
                                                        else "invite")
            return f"promises[{i}] ({match[1]}).{field}"
    return None


def load_promise_set(path: Path) -> LoadedSet:
    """Read and validate one promise-set file; raise ConfigError naming file and key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("config_unreadable", file=str(path), reason=exc.strerror or str(exc)) \
            from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("config_syntax", file=str(path), reason=str(exc)) from exc
    try:
        ps = PromiseSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        key = _key_path(data, tuple(first["loc"]))
        if not first["loc"]:
            key = _reference_path(data, msg) or key
        raise ConfigError("config_invalid", file=str(path), key=key, reason=msg,
                          more=exc.error_count() - 1) from exc
    return LoadedSet(path, ps, hashlib.sha256(raw).hexdigest())


def load_many(paths: list[Path], year: int | None = None) -> list[LoadedSet]:
    """Load files (a folder means its *.toml files), keeping those for ``year`` if given."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.toml")) if p.is_dir() else [p])
    loaded = [load_promise_set(f) for f in files]
    _one_name_per_team(loaded)
    if year is not None:
        kept = [s for s in loaded if s.promise_set.year == year]
        if not kept:
            have = ", ".join(sorted({str(s.promise_set.year) for s in loaded})) or "-"
            raise ConfigError("config_no_year", year=year, have=have,
                              file=", ".join(str(p) for p in paths))
        loaded = kept
    return loaded


def _one_name_per_team(loaded: list[LoadedSet]) -> None:
    """A team belongs to the police area: files of one area and year that name the same
    team id must give it the same name, or the plan would not know which team is meant."""
    seen: dict[tuple[str, int, str], tuple[str, Path]] = {}
    for s in loaded:
        for team in s.promise_set.teams:
            key = (s.promise_set.police_area, s.promise_set.year, team.id)
            name, path = seen.setdefault(key, (team.name, s.path))
            if name != team.name:
                raise ConfigError("config_team_names", file=str(s.path), team=team.id,
                                  name=team.name, other=name, other_file=str(path),
                                  area=s.promise_set.police_area)
