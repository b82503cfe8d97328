"""The delivery estimate and the shift calendar: pure, time passed in."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cloud.domain.calendar import Shift, ShiftCalendar
from cloud.domain.estimate import (
    Calibration,
    ShopSettings,
    estimate,
    settings_from_dict,
    settings_to_dict,
)
from cloud.domain.orders import Order, StageState, plan_stages, route_for

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
DAY_SHIFT = ShiftCalendar()  # Monday to Saturday, 08:00-20:00
NO_LOGISTICS = ShopSettings(DAY_SHIFT, logistics_hours=0)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Shanghai; the 3rd is a Thursday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SH)


def test_work_that_does_not_fit_before_the_night_carries_into_the_next_shift() -> None:
    assert DAY_SHIFT.add(at(3, 19), 3) == at(4, 10)


def test_a_sunday_and_a_holiday_are_skipped() -> None:
    holiday = replace(DAY_SHIFT, days_off=frozenset({date(2026, 12, 7)}))
    assert holiday.add(at(5, 19), 2) == at(8, 9)  # Sat 19-20, then Tuesday 08-09


def test_an_extra_workday_on_a_sunday_counts() -> None:
    swapped = replace(DAY_SHIFT, extra_workdays=frozenset({date(2026, 12, 6)}))
    assert swapped.add(at(5, 19), 2) == at(6, 9)


def test_a_night_shift_runs_past_midnight() -> None:
    nights = ShiftCalendar(shifts=(Shift(frozenset(range(1, 8)), time(20), time(8)),))
    assert nights.add(at(3, 23), 4) == at(4, 3)
    assert nights.add(at(4, 12), 1) == at(4, 21)
    assert nights.between(at(3, 19), at(4, 9)) == 12


def test_working_hours_between_skip_the_night() -> None:
    assert DAY_SHIFT.between(at(3, 18), at(4, 9)) == 3
    assert DAY_SHIFT.next_working(at(3, 22)) == at(4, 8)


def test_work_beyond_the_calendars_horizon_goes_on_at_its_pace() -> None:
    years = 72 * 52 * 3  # three years of 72-hour weeks
    done = DAY_SHIFT.add(at(7, 8), years)
    assert at(7, 8) + timedelta(days=3 * 365 - 10) < done < at(7, 8) + timedelta(days=3 * 365 + 10)
    assert DAY_SHIFT.add(at(7, 8), years + 72) > done


def test_a_calendar_without_shifts_is_refused() -> None:
    with pytest.raises(ValueError, match="shifts"):
        ShiftCalendar(shifts=())


ORDER = Order("E-1", "客户", "海报", 10_000, date(2026, 12, 5), at(3, 8))


def _printing_order(good: int, rate: float, now: datetime) -> list:  # type: ignore[type-arg]
    stages = plan_stages("E-1", route_for("sheet_job", 10_000))
    done = {"design", "ctp"}
    return [
        replace(s, state=StageState.DONE, started=at(3, 8), ended=at(3, 9))
        if s.code in done
        else replace(s, state=StageState.ACTIVE, good=good, rate=rate, started=at(3, 9))
        if s.code == "printing"
        else s
        for s in stages
    ]


def test_faster_progress_moves_the_estimate_earlier() -> None:
    now = at(3, 10)
    slow = estimate(ORDER, _printing_order(4000, 3000, now), now, NO_LOGISTICS, Calibration())
    fast = estimate(ORDER, _printing_order(4000, 6000, now), now, NO_LOGISTICS, Calibration())
    printing_slow, printing_fast = slow.stage("printing"), fast.stage("printing")
    assert printing_slow is not None
    assert printing_fast is not None
    assert printing_slow.end == at(3, 12)  # 6000 left at 3000/h
    assert printing_fast.end == at(3, 11)
    assert fast.delivery < slow.delivery
    assert printing_fast.basis == "observed_rate"


def test_the_shop_history_scales_standard_hours() -> None:
    now = at(3, 10)
    stages = _printing_order(10_000, 6000, now)
    stages = [
        replace(s, state=StageState.DONE, ended=now) if s.code == "printing" else s for s in stages
    ]
    plain = estimate(ORDER, stages, now, NO_LOGISTICS, Calibration())
    slow_post_press = Calibration().learn("post_press", 4, 8)
    learned = estimate(ORDER, stages, now, NO_LOGISTICS, slow_post_press)
    assert plain.stage("post_press").end == at(3, 14)  # type: ignore[union-attr]
    assert learned.stage("post_press").end == at(3, 18)  # type: ignore[union-attr]
    assert learned.stage("post_press").basis == "history"  # type: ignore[union-attr]


def test_work_left_at_night_is_estimated_into_the_morning_and_flags_the_risk() -> None:
    now = at(4, 19)  # Friday evening, due Saturday
    stages = _printing_order(4000, 6000, now)
    guess = estimate(ORDER, stages, now, ShopSettings(DAY_SHIFT, 24), Calibration())
    # printing 1 h (19-20), post-press 4 h and QC 1 h on Saturday morning
    assert guess.stage("printing").end == at(4, 20)  # type: ignore[union-attr]
    assert guess.stage("post_press").start == at(5, 8)  # type: ignore[union-attr]
    assert guess.ready == at(5, 13)
    assert guess.delivery == at(6, 13)  # logistics run on the calendar clock
    assert guess.at_risk


def test_a_delayed_stage_waits_for_its_expected_recovery() -> None:
    now = at(3, 10)
    stages = [
        replace(s, state=StageState.DELAYED, expected_recovery=at(3, 15))
        if s.code == "printing"
        else s
        for s in _printing_order(4000, 6000, now)
    ]
    guess = estimate(ORDER, stages, now, NO_LOGISTICS, Calibration())
    assert guess.stage("printing").end == at(3, 16)  # type: ignore[union-attr]


def test_without_an_observed_rate_the_machines_rated_speed_is_used() -> None:
    now = at(3, 10)
    stages = [
        replace(s, machine="plant/press-1") if s.code == "printing" else s
        for s in _printing_order(4000, 0, now)
    ]
    guess = estimate(ORDER, stages, now, NO_LOGISTICS, Calibration(), {"plant/press-1": 7500})
    assert guess.stage("printing").end == at(3, 11)  # type: ignore[union-attr]
    assert guess.stage("printing").basis == "rated_speed"  # type: ignore[union-attr]


def test_a_finished_order_is_ready_when_its_last_stage_ended() -> None:
    stages = [
        replace(s, state=StageState.DONE, started=at(3, 9), ended=at(4, 11))
        for s in plan_stages("E-1", route_for("sheet_job", 10_000))
    ]
    guess = estimate(ORDER, stages, at(6, 9), ShopSettings(DAY_SHIFT, 24), Calibration())
    assert guess.ready == at(4, 11)
    assert not guess.at_risk


def test_the_rate_is_smoothed_and_ignores_pauses() -> None:
    stage = plan_stages("E-1", route_for("sheet_job", 10_000))[2]
    t0 = datetime(2026, 12, 3, 2, tzinfo=UTC)
    stage = stage.credit(10, t0)
    stage = stage.credit(10, t0 + timedelta(seconds=6))  # 6000/h
    assert stage.rate == pytest.approx(6000)
    paused = stage.credit(10, t0 + timedelta(hours=1))  # a lunch break says nothing of speed
    assert paused.rate == pytest.approx(6000)
    faster = paused.credit(20, t0 + timedelta(hours=1, seconds=6))
    assert 6000 < faster.rate < 12_000


def test_settings_survive_their_json_form() -> None:
    shop = ShopSettings(replace(DAY_SHIFT, days_off=frozenset({date(2027, 2, 17)})), 48, 8000, 0.7)
    assert settings_from_dict(settings_to_dict(shop)) == shop


def test_the_domain_never_reads_the_clock() -> None:
    for name in ("calendar", "estimate", "orders", "tracking", "summary", "links"):
        source = (ROOT / f"cloud/domain/{name}.py").read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                pytest.fail(f"cloud/domain/{name}.py reads the clock ({node.attr})")
