"""The forecast's definitions, one by one, on plain data (mdtracker/forecast.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from mdtracker import forecast as fc

D = dt.date.fromisoformat
TODAY = D("2025-11-22")  # a Saturday


def test_the_year_starts_on_the_monday_52_weeks_before_this_weeks():
    start = fc.window_start(TODAY)
    assert start == D("2024-11-18") and start.weekday() == 0
    assert (TODAY - start).days // 7 + 1 == fc.WEEKS
    assert fc.window_start(D("2025-11-17")) == D("2024-11-18")  # a Monday is its own week's first day


def test_per_day_counts_only_the_window():
    days = [D("2025-11-01"), D("2025-11-01"), D("2025-11-20"), D("2025-11-23"), D("2020-01-01")]
    assert fc.per_day(days, D("2025-11-01"), TODAY) == {D("2025-11-01"): 2, D("2025-11-20"): 1}


def test_git_completions_are_the_rises_of_undated_done_tasks():
    snaps = [fc.Snapshot(D("2025-11-01"), 5, 0, 20),  # the baseline: done before the history
             fc.Snapshot(D("2025-11-02"), 7, 0, 20),  # +2
             fc.Snapshot(D("2025-11-03"), 8, 1, 20),  # a dated one: the notes count it, not git
             fc.Snapshot(D("2025-11-04"), 6, 1, 20),  # unticked: a fall counts 0
             fc.Snapshot(D("2025-11-05"), 9, 1, 22)]  # +3
    assert fc.git_completions(snaps, D("2025-10-01")) == {D("2025-11-02"): 2, D("2025-11-05"): 3}
    assert fc.git_completions(snaps, D("2025-11-03")) == {D("2025-11-05"): 3}
    assert fc.git_completions(snaps[:1], D("2025-10-01")) == {}
    # two snapshots of one day (the last commit, then the notes on disk today) add up on that day
    today = [fc.Snapshot(TODAY, 1, 0, 5), fc.Snapshot(TODAY, 3, 0, 5)]
    assert fc.git_completions([fc.Snapshot(D("2025-11-21"), 0, 0, 5), *today], D("2025-01-01")) == {TODAY: 3}


def test_merged_keeps_both_sources_and_drops_empty_days():
    assert fc.merged({D("2025-11-01"): 2, D("2025-11-02"): 0}, {D("2025-11-01"): 1, D("2025-11-03"): 4}) == {
        D("2025-11-01"): (2, 1), D("2025-11-03"): (0, 4)}


@pytest.mark.parametrize("days,current,longest", [
    ([], 0, 0),
    (["2025-11-22"], 1, 1),
    (["2025-11-21"], 1, 1),  # today has nothing yet: the run ending yesterday still counts
    (["2025-11-20"], 0, 1),
    (["2025-11-20", "2025-11-21", "2025-11-22", "2025-11-10", "2025-11-11"], 3, 3),
    (["2025-11-01", "2025-11-02", "2025-11-03", "2025-11-04", "2025-11-22"], 1, 4),
])
def test_streaks(days, current, longest):
    assert fc.streaks([D(d) for d in days], TODAY) == (current, longest)


def test_pace_counts_the_last_n_days_today_included():
    done = {D("2025-11-22"): 1, D("2025-11-16"): 2, D("2025-11-15"): 4, D("2025-10-26"): 8, D("2025-10-25"): 16}
    assert fc.pace(done, TODAY, 7) == 3  # 11-16 .. 11-22
    assert fc.pace(done, TODAY, 14) == 7
    assert fc.pace(done, TODAY, 28) == 15  # 10-26 .. 11-22
    assert fc.pace({D("2025-11-23"): 5}, TODAY, 7) == 0  # the future is no pace


@pytest.mark.parametrize("remaining,done,days,expected", [
    (0, 0, 7, "2025-11-22"),  # nothing left: done today
    (10, 0, 7, None),  # a pace of 0: never
    (10, 7, 7, "2025-12-02"),  # one a day: ten days
    (3, 7, 21, "2025-12-01"),  # exactly 9 days: no float rounding up to 10
    (1, 100, 7, "2025-11-23"),  # less than a day: tomorrow
])
def test_finish(remaining, done, days, expected):
    assert fc.finish(remaining, done, days, TODAY) == (D(expected) if expected else None)


def test_needed_pace():
    assert fc.needed(10, TODAY, D("2025-12-02")) == 1.0
    assert fc.needed(0, TODAY, D("2025-11-01")) == 0.0
    assert fc.needed(5, TODAY, TODAY) is None
    assert fc.needed(5, TODAY, D("2025-11-01")) is None


def test_burn_up_is_done_today_less_what_came_after():
    completions = {D("2025-11-20"): 2, D("2025-11-22"): 1}
    points = fc.burn_up(completions, 10, {}, 30, D("2025-11-19"), TODAY)
    assert points == [(D("2025-11-19"), 7, 30), (D("2025-11-20"), 9, 30), (D("2025-11-21"), 9, 30),
                      (D("2025-11-22"), 10, 30)]


def test_burn_up_scope_follows_the_snapshots():
    scope = {D("2025-11-20"): 12, D("2025-11-21"): 15}
    points = fc.burn_up({}, 3, scope, 16, D("2025-11-19"), TODAY)
    assert [s for _, _, s in points] == [12, 12, 15, 16]  # before the first snapshot: the first one's scope


def test_the_target_is_the_config_s_then_a_note_s_then_the_last_milestone_s():
    field = fc.Target(D("2026-01-15"), "note", "tracker.md:5", "Target Interview Date")
    m1 = fc.Target(D("2025-12-01"), "milestone", "plan.md:10", "End of Week 5")
    m2 = fc.Target(D("2025-12-20"), "milestone", "plan.md:30", "End of Week 8")
    assert fc.choose_target(D("2026-02-01"), "mdtracker.toml", [field], [m1, m2]) == fc.Target(
        D("2026-02-01"), "config", "mdtracker.toml", "[forecast] target")
    assert fc.choose_target(None, None, [field], [m1, m2]) == field
    assert fc.choose_target(None, None, [], [m2, m1]) == m2
    assert fc.choose_target(None, None, [], []) is None


def test_forecast_puts_it_together():
    notes = {D("2025-11-20"): 2, D("2025-11-21"): 1}
    git = {D("2025-11-22"): 4}
    target = fc.Target(D("2025-12-02"), "config", "mdtracker.toml", "[forecast] target")
    f = fc.forecast(TODAY, 20, 50, notes, git, {}, target, [])
    assert f["remaining"] == 30
    assert f["pace"][0] == {"days": 7, "done": 7, "per_day": 1, "finish": "2025-12-22", "on_track": False}
    assert f["target"] == {"date": "2025-12-02", "source": "config", "where": "mdtracker.toml",
                           "text": "[forecast] target", "days_left": 10, "needed_per_day": 3}
    assert f["burnup"][0] == {"date": "2025-11-19", "done": 13, "scope": 50}  # the day before the first completion
    assert f["burnup"][-1] == {"date": "2025-11-22", "done": 20, "scope": 50}
    a = fc.activity(TODAY, notes, git, {"used": True})
    assert a["total"] == 7 and a["streak"] == {"current": 3, "longest": 3}
    assert a["days"][-1] == {"date": "2025-11-22", "done": 4, "notes": 0, "git": 4}


def test_a_vault_with_nothing_done_has_a_two_day_burn_up_and_no_finish():
    f = fc.forecast(TODAY, 0, 5, {}, {}, {}, None, [])
    assert f["burnup"] == [{"date": "2025-11-21", "done": 0, "scope": 5}, {"date": "2025-11-22", "done": 0, "scope": 5}]
    assert [p["finish"] for p in f["pace"]] == [None, None, None]
    assert f["target"] is None and all(p["on_track"] is None for p in f["pace"])
