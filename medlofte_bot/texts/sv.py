"""Svenska texter (standard)."""

TEXTS: dict[str, str] = {
    "when": "{day} kl. {time}",
    "kind.narcotics_operation": "Narkotikainsats",
    "kind.risk_night": "Riskkväll",
    "kind.bar_inspection": "Krogtillsyn",
    "kind.school_traffic_control": "Trafikkontroll vid skola",
    "kind.summer_night_patrol": "Sommarnatt mot buskörning",
    "kind.kronoberg_model": "Kronobergsmodellen",
    "vehicle.marked": "polismålad bil",
    "vehicle.unmarked": "civil bil",
    "visibility.police": "endast polis",
    "visibility.partners": "polis och inbjudna partner",
    "visibility.public": "alla",
    "joint": "gemensam med {role}",
    "basis.target": "",
    "basis.frequency": " ({count} per {per} × {buckets})",
    "per.year": "år",
    "per.term": "termin",
    "per.month": "månad",
    "per.week": "vecka",
    "basis.risk_nights": " (en per riskkväll)",
    "config_unreadable": "Kan inte läsa {file}: {reason}.",
    "config_syntax": "{file} är inte giltig TOML: {reason}.",
    "config_invalid": "{file}: {key}: {reason}.",
    "config_invalid_more": " ({more} fel till; rätta det här först.)",
    "config_no_year": "{file} har inga löften för {year} (filerna gäller: {have}).",
    "config_error_footer": "Inget har sparats. Se config/arvidsjaur-2015.toml för ett giltigt exempel.",
    "plan.title": "{municipality} {year}: plan för medborgarlöftena",
    "plan.promise_line": "• {title}: {target}{basis}",
    "plan.promise_joint": ", varav {joint} gemensamma",
    "plan.promise_none": "• {title}: inga egna pass; räknare förs på {applies}",
    "plan.task_line": "  {day:<24} {start}–{end}  {kind:<26} {team:<18} {extra}",
    "plan.total": "{count} uppgifter.",
    "plan.shortfall": "⚠ {title}: målet {target} kan inte längre nås, högst {reachable}.",
    "plan.shortfall_joint": "⚠ {title}: {joint_target} gemensamma kan inte längre nås, högst {joint_reachable}.",
    "plan.ics_written": "Skrev {count} händelser till {file}.",
    "plan.ics_police_left_out": "{count} polisiära uppgifter utelämnade (--include-police-only tar med dem).",
    "apply.added": "+ {key}  {when}  {team}",
    "apply.updated": "~ {key}  {before} → {after}",
    "apply.cancelled": "- {key}  {when}  (inställd: borttagen ur konfigurationen)",
    "apply.unchanged": "{municipality} {year}: oförändrad ({count} uppgifter).",
    "apply.summary": "{municipality} {year}: {added} nya, {updated} ändrade, {cancelled} inställda, {kept} oförändrade.",
    "cli.error": "Fel: {message}",
    "cli.db_error": "Databasen kunde inte nås ({url}): {reason}. Inget har ändrats.",
}
TEXTS["clock_invalid"] = (
    "MEDLOFTE_CLOCK={value!r} går inte att läsa. Skriv en starttid med tidszon och"
    " eventuellt en hastighet, t.ex. 2015-01-01T06:00+01:00x3600."
)
TEXTS["year_over"] = (
    "{year} är redan slut (i dag är det {today}); inget har sparats. För att spela upp året,"
    " sätt en simulerad klocka: MEDLOFTE_CLOCK={year}-01-01T00:00+01:00."
)
