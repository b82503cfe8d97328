"""The shop's working time: shifts per weekday, days off and extra working days, in its zone.

Pure: every function takes the time it works from; nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HORIZON_DAYS = 730  # no estimate looks further ahead than two years


@dataclass(frozen=True)
class Shift:
    """Working hours on the days it names (1 = Monday .. 7 = Sunday); an end at or before the
    start runs past midnight into the next day."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class ShiftCalendar:
    """When the shop works."""

    zone: str = "Asia/Shanghai"
    shifts: tuple[Shift, ...] = (Shift(frozenset({1, 2, 3, 4, 5, 6}), time(8), time(20)),)
    days_off: frozenset[date] = field(default_factory=frozenset)  # holidays
    extra_workdays: frozenset[date] = field(default_factory=frozenset)  # work as on a Monday

    def __post_init__(self) -> None:
        if not self.shifts:
            raise ValueError("shifts: at least one shift is needed")
        ZoneInfo(self.zone)  # raises for an unknown zone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def _weekday(self, day: date) -> int | None:
        if day in self.days_off:
            return None
        if day in self.extra_workdays:
            return 1
        return day.isoweekday()

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows that start on this local day, earliest first."""
        weekday = self._weekday(day)
        if weekday is None:
            return []
        found = []
        for shift in self.shifts:
            if weekday not in shift.days:
                continue
            begin = datetime.combine(day, shift.start, self.tz)
            end_day = day if shift.end > shift.start else day + timedelta(days=1)
            found.append((begin, datetime.combine(end_day, shift.end, self.tz)))
        return sorted(found)

    def _from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (clipped) from `at` onwards."""
        local = at.astimezone(self.tz)
        day = local.date() - timedelta(days=1)  # a night shift that began yesterday
        for _ in range(HORIZON_DAYS):
            for begin, end in self.windows(day):
                if end > local:
                    yield max(begin, local), end
            day += timedelta(days=1)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start` are used up."""
        if hours <= 0:
            return start
        left = timedelta(hours=hours)
        worked, last = timedelta(), start
        for begin, end in self._from(start):
            if end - begin >= left:
                return (begin + left).astimezone(start.tzinfo)
            left -= end - begin
            worked, last = worked + (end - begin), end
        if worked <= timedelta():
            raise ValueError("calendar: no working time within two years")
        # more work than the horizon holds: go on at the horizon's share of working time
        return (last + left * ((last - start) / worked)).astimezone(start.tzinfo)

    def next_working(self, at: datetime) -> datetime:
        """`at` itself in working time, or the start of the next shift."""
        for begin, _ in self._from(at):
            return begin.astimezone(at.tzinfo)
        raise ValueError("calendar: no working time within two years")

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end`."""
        total = timedelta()
        for begin, until in self._from(start):
            if begin >= end:
                break
            total += min(until, end) - begin
        return total.total_seconds() / 3600

    def end_of_day(self, day: date) -> datetime:
        """Midnight after `day` in the shop's zone: what "due on `day`" means."""
        return datetime.combine(day + timedelta(days=1), time(0), self.tz)
