"""The promise-set schema and loading it from TOML, with errors naming file and key."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from medlofte_bot.configuration import load_many, load_promise_set
from medlofte_bot.domain.errors import ConfigError, UserError
from medlofte_bot.domain.promise_set import PartnerRole, Promise, PromiseSet, TimeWindow

CONFIG = Path(__file__).resolve().parents[2] / "config" / "arvidsjaur-2015.toml"
TEXT = CONFIG.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _replace_once(old: str, new: str, text: str = TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_promise_set(path)
    return info.value


# --- the real file ---------------------------------------------------------------------------


def test_arvidsjaur_file_validates() -> None:
    loaded = load_promise_set(CONFIG)
    ps = loaded.promise_set
    assert ps.municipality == "Arvidsjaur"
    assert ps.year == 2015
    assert [t.id for t in ps.teams] == ["lag-1", "lag-2"]
    assert [p.id for p in ps.promises] == [
        "narkotika", "riskkvallar", "krogtillsyn", "kronobergsmodellen", "skolkontroller",
        "buskorning"]
    joint = ps.promise("krogtillsyn").joint
    assert joint is not None
    assert joint.count == 2
    assert len(ps.risk_nights) == 10
    assert loaded.path == CONFIG
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.digest)


def test_digest_follows_the_content(tmp_path: Path) -> None:
    same = load_promise_set(_write(tmp_path, TEXT, "same.toml"))
    other = load_promise_set(_write(tmp_path, TEXT.replace("seed = 20150101", "seed = 1"),
                                    "other.toml"))
    assert same.digest == load_promise_set(CONFIG).digest
    assert other.digest != same.digest
    assert other.promise_set.seed == 1


def test_partner_availability_follows_weekdays_and_leave() -> None:
    ps = load_promise_set(CONFIG).promise_set
    officer = ps.partner_role("alkoholhandlaggare")
    assert officer.available_on(date(2015, 3, 27))  # a Friday
    assert not officer.available_on(date(2015, 3, 26))  # a Thursday
    assert not officer.available_on(date(2015, 7, 3))  # a Friday in the summer leave
    assert not officer.available_on(date(2015, 12, 19))  # a Saturday in the Christmas leave
    assert officer.available_on(date(2015, 8, 14))  # the first Friday after the leave


@pytest.mark.parametrize(("text", "minutes"), [("22:00-02:00", 240), ("07:30-08:30", 60),
                                               ("00:00-00:00", 1440), ("21:00-03:00", 360)])
def test_time_window_length_crosses_midnight(text: str, minutes: int) -> None:
    assert TimeWindow.model_validate(text).minutes == minutes
    assert str(TimeWindow.model_validate(text)) == text


@pytest.mark.parametrize("text", ["25:00-02:00", "22:00", "22:60-01:00", "9:00-10:00"])
def test_time_window_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValidationError):
        TimeWindow.model_validate(text)


def test_promise_needs_exactly_one_of_target_and_frequency() -> None:
    base = {"id": "p", "title": "P", "kind": "patrol", "hours": ["20:00-22:00"]}
    with pytest.raises(ValidationError, match="exactly one"):
        Promise.model_validate(base)
    with pytest.raises(ValidationError, match="exactly one"):
        Promise.model_validate({**base, "target": 2, "frequency": {"count": 1, "per": "week"}})
    assert Promise.model_validate({**base, "target": 2}).target == 2


def test_promise_rejects_repeated_weekdays() -> None:
    with pytest.raises(ValidationError, match="weekdays"):
        Promise.model_validate({"id": "p", "title": "P", "kind": "patrol", "target": 1,
                                "hours": ["20:00-22:00"], "weekdays": ["fri", "fri"]})


def test_partner_role_defaults_to_every_day() -> None:
    role = PartnerRole(id="r", title="R", organisation="O")
    assert all(role.available_on(date(2015, 6, d)) for d in range(1, 8))


def test_promise_set_rejects_duplicate_promise_ids() -> None:
    data = {"municipality": "M", "slug": "m", "police_area": "P", "year": 2015,
            "teams": [{"id": "a", "name": "A"}],
            "promises": [{"id": "p", "title": "P", "kind": "patrol", "target": 1,
                          "hours": ["20:00-22:00"]}] * 2}
    with pytest.raises(ValidationError, match="unique"):
        PromiseSet.model_validate(data)


# --- bad files -------------------------------------------------------------------------------


def test_text_where_a_number_belongs_names_file_and_key_path(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once("target = 6\njoint", 'target = "six"\njoint'))
    err = _load_error(path)
    assert isinstance(err, UserError)
    assert err.key == "config_invalid"
    assert err.params["file"] == str(path)
    assert err.params["key"] == "promises[2] (krogtillsyn).target"
    assert err.params["reason"]


def test_a_bad_time_window_names_the_window(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once('hours = ["16:00-02:00"]', 'hours = ["25:00-02:00"]'))
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["file"] == str(path)
    assert err.params["key"] == "promises[0] (narkotika).hours[0]"
    assert "25:00-02:00" in err.params["reason"]


def test_a_bad_risk_night_hours_names_the_top_level_key(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once('risk_night_hours = "20:00-02:00"',
                                          'risk_night_hours = "25:00-02:00"'))
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["key"] == "risk_night_hours"


def test_joint_count_above_target_names_the_promise(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once("joint = { count = 2,", "joint = { count = 7,"))
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["file"] == str(path)
    assert err.params["key"].startswith("promises[2] (krogtillsyn)")
    assert "joint.count 7 exceeds target 6" in err.params["reason"]


def test_counters_the_follow_up_never_asks_for_are_refused_naming_the_promise(
        tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once('follow_up = ["counters", "vehicles_checked"]',
                                          'follow_up = ["vehicles_checked", "note"]'))
    err = _load_error(path)
    assert err.params["key"].startswith("promises[5] (buskorning)")
    assert 'add "counters" to follow_up' in err.params["reason"]
    assert "young_people_met" in err.params["reason"]


def _with_unknown_team(tmp_path: Path) -> Path:
    return _write(tmp_path, _replace_once('kind = "narcotics_operation"\n',
                                          'kind = "narcotics_operation"\nteams = ["lag-9"]\n'))


def test_unknown_team_id_is_a_config_error_naming_promise_and_team(tmp_path: Path) -> None:
    path = _with_unknown_team(tmp_path)
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["file"] == str(path)
    assert "narkotika" in err.params["reason"]
    assert "lag-9" in err.params["reason"]


def test_unknown_team_id_key_path_points_at_the_promise(tmp_path: Path) -> None:
    err = _load_error(_with_unknown_team(tmp_path))
    assert err.params["key"].startswith("promises[0] (narkotika)")


def _with_unknown_role(tmp_path: Path) -> Path:
    return _write(tmp_path, _replace_once('partner_role = "alkoholhandlaggare"',
                                          'partner_role = "brandchef"'))


def test_unknown_partner_role_is_a_config_error_naming_promise_and_role(tmp_path: Path) -> None:
    path = _with_unknown_role(tmp_path)
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["file"] == str(path)
    assert "krogtillsyn" in err.params["reason"]
    assert "brandchef" in err.params["reason"]


def test_unknown_partner_role_key_path_points_at_the_promise(tmp_path: Path) -> None:
    err = _load_error(_with_unknown_role(tmp_path))
    assert err.params["key"].startswith("promises[2] (krogtillsyn)")


def test_unknown_field_is_rejected_with_its_key(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace_once("target = 6\nhours", "target = 6\ntagret = 6\nhours"))
    err = _load_error(path)
    assert err.key == "config_invalid"
    assert err.params["key"] == "promises[0] (narkotika).tagret"


def test_error_counts_the_further_problems(tmp_path: Path) -> None:
    text = _replace_once("target = 6\njoint", 'target = "six"\njoint')
    text = _replace_once('hours = ["16:00-02:00"]', 'hours = ["25:00-02:00"]', text)
    err = _load_error(_write(tmp_path, text))
    assert err.params["more"] == 1


def test_toml_syntax_error_is_config_syntax(tmp_path: Path) -> None:
    path = _write(tmp_path, TEXT + "\n[[teams]\nid = \n")
    err = _load_error(path)
    assert err.key == "config_syntax"
    assert err.params["file"] == str(path)
    assert err.params["reason"]


def test_a_file_that_is_not_utf8_is_config_syntax(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(TEXT.encode("utf-8").replace(b"Arvidsjaur", "Ärvidsjaur".encode("latin-1")))
    assert _load_error(path).key == "config_syntax"


def test_missing_file_is_config_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    err = _load_error(path)
    assert err.key == "config_unreadable"
    assert err.params["file"] == str(path)
    assert err.params["reason"]


# --- several files ---------------------------------------------------------------------------


def test_load_many_reads_a_folder_and_keeps_the_year(tmp_path: Path) -> None:
    _write(tmp_path, TEXT, "a-2015.toml")
    _write(tmp_path, TEXT.replace("year = 2015", "year = 2016")
           .replace("2015-06-11", "2016-06-09").replace("2015-06-12", "2016-06-10")
           .replace("period = { start = 2015-06-01, end = 2015-08-31 }",
                    "period = { start = 2016-06-01, end = 2016-08-31 }"), "b-2016.toml")
    (tmp_path / "notes.txt").write_text("not a promise set", encoding="utf-8")
    everything = load_many([tmp_path])
    assert [s.path.name for s in everything] == ["a-2015.toml", "b-2016.toml"]
    only_2016 = load_many([tmp_path], year=2016)
    assert [s.promise_set.year for s in only_2016] == [2016]


def test_load_many_with_no_file_for_the_year_is_config_no_year(tmp_path: Path) -> None:
    _write(tmp_path, TEXT, "arvidsjaur-2015.toml")
    with pytest.raises(ConfigError) as info:
        load_many([tmp_path], year=2016)
    err = info.value
    assert err.key == "config_no_year"
    assert err.params["year"] == 2016
    assert err.params["have"] == "2015"
    assert str(tmp_path) in err.params["file"]


def test_load_many_with_an_empty_folder_and_a_year_is_config_no_year(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_many([tmp_path], year=2015)
    assert info.value.key == "config_no_year"
    assert info.value.params["have"] == "-"


def test_load_many_stops_at_a_bad_file(tmp_path: Path) -> None:
    _write(tmp_path, TEXT, "a.toml")
    _write(tmp_path, "municipality = ", "b.toml")
    with pytest.raises(ConfigError) as info:
        load_many([tmp_path], year=2015)
    assert info.value.key == "config_syntax"
    assert info.value.params["file"] == str(tmp_path / "b.toml")
