"""English texts."""

TEXTS: dict[str, str] = {
    "when": "{day} at {time}",
    "kind.narcotics_operation": "Narcotics operation",
    "kind.risk_night": "Risk night",
    "kind.bar_inspection": "Bar inspection",
    "kind.school_traffic_control": "School traffic control",
    "kind.summer_night_patrol": "Summer night patrol",
    "kind.kronoberg_model": "Kronoberg model",
    "vehicle.marked": "marked car",
    "vehicle.unmarked": "unmarked car",
    "visibility.police": "police only",
    "visibility.partners": "police and invited partners",
    "visibility.public": "everyone",
    "joint": "joint with {role}",
    "basis.target": "",
    "basis.frequency": " ({count} per {per} × {buckets})",
    "per.year": "year",
    "per.term": "term",
    "per.month": "month",
    "per.week": "week",
    "basis.risk_nights": " (one per risk night)",
    "config_unreadable": "Cannot read {file}: {reason}.",
    "config_syntax": "{file} is not valid TOML: {reason}.",
    "config_invalid": "{file}: {key}: {reason}.",
    "config_invalid_more": " ({more} more errors; fix this one first.)",
    "config_no_year": "{file} has no promises for {year} (the files are for: {have}).",
    "config_error_footer": "Nothing was saved. See config/arvidsjaur-2015.toml for a valid example.",
    "plan.title": "{municipality} {year}: plan for the citizen promises",
    "plan.promise_line": "• {title}: {target}{basis}",
    "plan.promise_joint": ", of which {joint} joint",
    "plan.promise_none": "• {title}: no tasks of its own; counters are kept on {applies}",
    "plan.task_line": "  {day:<24} {start}–{end}  {kind:<26} {team:<18} {extra}",
    "plan.total": "{count} tasks.",
    "plan.shortfall": "⚠ {title}: the target {target} can no longer be met, at most {reachable}.",
    "plan.shortfall_joint": "⚠ {title}: {joint_target} joint ones can no longer be met, at most {joint_reachable}.",
    "plan.ics_written": "Wrote {count} events to {file}.",
    "plan.ics_police_left_out": "{count} police-only tasks left out (--include-police-only adds them).",
    "apply.added": "+ {key}  {when}  {team}",
    "apply.updated": "~ {key}  {before} → {after}",
    "apply.cancelled": "- {key}  {when}  (cancelled: removed from the configuration)",
    "apply.unchanged": "{municipality} {year}: unchanged ({count} tasks).",
    "apply.summary": "{municipality} {year}: {added} new, {updated} changed, {cancelled} cancelled, {kept} unchanged.",
    "cli.error": "Error: {message}",
    "cli.db_error": "The database could not be reached ({url}): {reason}. Nothing was changed.",
}
TEXTS["clock_invalid"] = (
    "MEDLOFTE_CLOCK={value!r} cannot be read. Give a start time with a zone offset and"
    " optionally a speed, e.g. 2015-01-01T06:00+01:00x3600."
)
TEXTS["year_over"] = (
    "{year} is already over (today is {today}); nothing was saved. To replay the year,"
    " set a simulated clock: MEDLOFTE_CLOCK={year}-01-01T00:00+01:00."
)
