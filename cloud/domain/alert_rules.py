"""The shop's thresholds for incidents and its quiet hours for customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Rules:
    """When trouble becomes an incident, when it is over, and when customers hear of it."""

    fault_seconds: float = 3.0  # a fault shorter than this is not an incident
    clear_seconds: float = 120.0  # gone this long before an incident closes
    stall_minutes: float = 10.0  # executing with a flat counter this long
    silent_minutes: float = 5.0  # no snapshot this long from a machine with a job
    orphan_seconds: float = 30.0  # silent this long after its agent's last will: a gap
    overdue_grace: float = 0.25  # a stage may run this share over its standard hours
    recovery_minutes: float = 30.0  # expected recovery of a fault or stall when nobody says
    customer_after_minutes: float = 10.0  # a delay shorter than this stays in the shop


@dataclass(frozen=True)
class QuietHours:
    """When customers are not disturbed, in the shop's zone."""

    zone: str = "Asia/Shanghai"
    start: time = time(21)
    end: time = time(8)

    def release(self, at: datetime) -> datetime | None:
        """None outside quiet hours, else the morning when they end."""
        local = at.astimezone(ZoneInfo(self.zone))
        now = local.time()
        inside = (
            self.start <= now or now < self.end
            if self.start > self.end
            else self.start <= now < self.end
        )
        if not inside:
            return None
        day = local.date() if now < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, ZoneInfo(self.zone))
