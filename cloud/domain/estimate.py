"""The delivery estimate: when each stage will be done and when the goods reach the customer.

Machine stages: remaining quantity over the observed (smoothed) rate, else the machine's rated
speed, else the shop's default. Other stages: standard hours scaled by the shop's own history for
that stage. Work happens only in shifts; logistics runs on the calendar clock. Pure: the time
`now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from cloud.domain.alert_rules import QuietHours, Rules
from cloud.domain.calendar import Shift, ShiftCalendar
from cloud.domain.orders import Order, Stage, StageKind, StageState

LINGER = 0.1  # an overrun manual stage is expected to need a tenth of its hours more


@dataclass(frozen=True)
class ShopSettings:
    """What the shop tells presstrack about itself."""

    calendar: ShiftCalendar = field(default_factory=ShiftCalendar)
    logistics_hours: float = 24.0  # from "shipped" to the customer's door
    default_rate_per_hour: float = 6000.0  # sheets/h when no machine says better
    rated_efficiency: float = 0.8  # share of rated speed a press keeps up over a run
    rules: Rules = field(default_factory=Rules)
    quiet_start: time = time(21)  # customers are not messaged from ...
    quiet_end: time = time(8)  # ... until

    @property
    def quiet(self) -> QuietHours:
        return QuietHours(self.calendar.zone, self.quiet_start, self.quiet_end)


RULE_FIELDS = tuple(Rules.__dataclass_fields__)


def settings_to_dict(s: ShopSettings) -> dict[str, Any]:
    """The settings as plain JSON values (the API's `Settings` body has the same shape)."""
    cal = s.calendar
    return {
        "zone": cal.zone,
        "shifts": [
            {"days": sorted(x.days), "start": f"{x.start:%H:%M}", "end": f"{x.end:%H:%M}"}
            for x in cal.shifts
        ],
        "days_off": sorted(d.isoformat() for d in cal.days_off),
        "extra_workdays": sorted(d.isoformat() for d in cal.extra_workdays),
        "logistics_hours": s.logistics_hours,
        "default_rate_per_hour": s.default_rate_per_hour,
        "rated_efficiency": s.rated_efficiency,
        "alerts": {k: getattr(s.rules, k) for k in RULE_FIELDS},
        "quiet_start": f"{s.quiet_start:%H:%M}",
        "quiet_end": f"{s.quiet_end:%H:%M}",
    }


def settings_from_dict(d: dict[str, Any]) -> ShopSettings:
    """Settings from their JSON form; ValueError for a calendar that cannot work."""
    calendar = ShiftCalendar(
        zone=str(d["zone"]),
        shifts=tuple(
            Shift(
                frozenset(int(x) for x in s["days"]),
                time.fromisoformat(s["start"]),
                time.fromisoformat(s["end"]),
            )
            for s in d["shifts"]
        ),
        days_off=frozenset(date.fromisoformat(x) for x in d.get("days_off", [])),
        extra_workdays=frozenset(date.fromisoformat(x) for x in d.get("extra_workdays", [])),
    )
    alerts = d.get("alerts") or {}
    return ShopSettings(
        calendar,
        float(d.get("logistics_hours", 24.0)),
        float(d.get("default_rate_per_hour", 6000.0)),
        float(d.get("rated_efficiency", 0.8)),
        Rules(**{k: float(alerts[k]) for k in RULE_FIELDS if k in alerts}),
        time.fromisoformat(d.get("quiet_start", "21:00")),
        time.fromisoformat(d.get("quiet_end", "08:00")),
    )


@dataclass(frozen=True)
class Calibration:
    """The shop's history per stage code: actual over standard hours, smoothed."""

    factors: dict[str, float] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    version: int = 0

    def factor(self, code: str) -> float:
        return self.factors.get(code, 1.0)

    def learn(self, code: str, standard: float, actual: float, weight: float = 0.2) -> Calibration:
        """Fold one finished stage in; ratios beyond 4x either way are treated as typos."""
        if standard <= 0 or actual <= 0:
            return self
        ratio = min(4.0, max(0.25, actual / standard))
        count = self.samples.get(code, 0)
        old = self.factors.get(code)
        new = ratio if old is None else old + max(weight, 1 / (count + 1)) * (ratio - old)
        return replace(
            self, factors={**self.factors, code: new}, samples={**self.samples, code: count + 1}
        )


@dataclass(frozen=True)
class StageEstimate:
    """One stage's expected start and end, and what the estimate rests on."""

    code: str
    start: datetime | None
    end: datetime
    basis: str  # done | observed_rate | rated_speed | default_rate | history | standard


@dataclass(frozen=True)
class Estimate:
    """The order's expected delivery, computed at `at`."""

    at: datetime
    ready: datetime  # the last stage done
    delivery: datetime  # ready plus logistics
    due_by: datetime
    at_risk: bool
    stages: tuple[StageEstimate, ...]

    def stage(self, code: str) -> StageEstimate | None:
        return next((s for s in self.stages if s.code == code), None)


def _machine_hours(
    stage: Stage, quantity: int, settings: ShopSettings, rated: float | None
) -> tuple[float, str]:
    left = max(0, (stage.planned or quantity) - stage.good)
    if stage.rate > 0:
        return left / stage.rate, "observed_rate"
    if rated:
        return left / (rated * settings.rated_efficiency), "rated_speed"
    return left / settings.default_rate_per_hour, "default_rate"


def _manual_hours(
    stage: Stage, now: datetime, settings: ShopSettings, history: Calibration
) -> tuple[float, str]:
    calibrated = stage.code in history.factors
    hours = stage.standard_hours * history.factor(stage.code)
    if stage.started is not None and stage.state is not StageState.PENDING:
        worked = settings.calendar.between(stage.started, now)
        hours = max(hours - worked, hours * LINGER)
    return hours, "history" if calibrated else "standard"


def estimate(
    order: Order,
    stages: list[Stage],
    now: datetime,
    settings: ShopSettings,
    history: Calibration,
    rated: dict[str, float] | None = None,
) -> Estimate:
    """Walk the route in order from `now`: each unfinished stage starts when the one before it is
    expected to end (a delayed one not before its expected recovery), within shifts."""
    cal = settings.calendar
    cursor = now
    found: list[StageEstimate] = []
    for stage in sorted(stages, key=lambda s: s.position):
        if stage.state in (StageState.DONE, StageState.SKIPPED):
            end = stage.ended or now
            found.append(StageEstimate(stage.code, stage.started, end, "done"))
            continue
        if stage.state is StageState.DELAYED and stage.expected_recovery is not None:
            cursor = max(cursor, stage.expected_recovery)
        if stage.kind is StageKind.MACHINE:
            machine_rate = (rated or {}).get(stage.machine or "")
            hours, basis = _machine_hours(stage, order.quantity, settings, machine_rate)
        else:
            hours, basis = _manual_hours(stage, now, settings, history)
        begin = stage.started if stage.state is StageState.ACTIVE and stage.started else None
        begin = begin or (cal.next_working(cursor) if hours > 0 else cursor)
        cursor = cal.add(max(cursor, now), hours) if hours > 0 else cursor
        found.append(StageEstimate(stage.code, begin, cursor, basis))
    open_work = any(s.basis != "done" for s in found)
    ready = cursor if open_work or not found else max(s.end for s in found)
    delivery = ready + timedelta(hours=settings.logistics_hours)
    due_by = cal.end_of_day(order.due)
    return Estimate(now, ready, delivery, due_by, delivery > due_by, tuple(found))
