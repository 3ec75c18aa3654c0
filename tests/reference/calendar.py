"""Reference calendar dimension: docs/semantics.md "Calendar dimension".

One row per day of the range, both ends included, plus the unknown member (`date_key` 0, every other
column NULL). A load inserts the missing days only: idempotent, and extending the range adds the new
days. The doc lists no `dw_*` columns for the calendar, so there are none here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from modelc import ir

Row = dict[str, object]

COLUMNS = ("date_key", "date", "year", "quarter", "month", "month_name", "iso_week", "day_of_week", "is_weekend")
# Spelled out rather than strftime("%B"), which follows the process locale.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")  # fmt: skip
UNKNOWN_DATE_KEY = 0


def date_key(day: dt.date) -> int:
    """`yyyymmdd` as an int: 2024-02-29 -> 20240229."""
    return day.year * 10000 + day.month * 100 + day.day


def calendar_row(day: dt.date) -> Row:
    iso = day.isocalendar()
    return {
        "date_key": date_key(day),
        "date": day,
        "year": day.year,
        "quarter": (day.month - 1) // 3 + 1,
        "month": day.month,
        "month_name": MONTH_NAMES[day.month - 1],
        "iso_week": iso.week,
        "day_of_week": iso.weekday,  # ISO: Monday 1 ... Sunday 7
        "is_weekend": iso.weekday >= 6,
    }


def unknown_row() -> Row:
    row: Row = dict.fromkeys(COLUMNS)
    row["date_key"] = UNKNOWN_DATE_KEY
    return row


@dataclass
class CalendarState:
    rows: dict[int, Row] = field(default_factory=dict)  # date_key -> row


def load_calendar(cal: ir.Calendar, state: CalendarState) -> int:
    """Insert the unknown member and the days of `cal` that are missing; return how many rows were added."""
    added = 0
    if UNKNOWN_DATE_KEY not in state.rows:
        state.rows[UNKNOWN_DATE_KEY] = unknown_row()
        added += 1
    day = cal.start
    while day <= cal.end:
        if date_key(day) not in state.rows:
            state.rows[date_key(day)] = calendar_row(day)
            added += 1
        day += dt.timedelta(days=1)
    return added


def canonical_rows(state: CalendarState) -> list[tuple[object, ...]]:
    """The table as tuples in `COLUMNS` order, sorted by date_key (the unknown member first)."""
    return [tuple(state.rows[k][c] for c in COLUMNS) for k in sorted(state.rows)]
