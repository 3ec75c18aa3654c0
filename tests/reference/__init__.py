"""A small, pure-Python reference model of docs/semantics.md, written independently of the SQL generator.

Property tests load the same batches with the generated SQL and with these functions and compare the
resulting tables row for row (surrogate keys included). Keep it a direct transcription of the rules:
when the two disagree, the reader must be able to tell from this code alone which one is right.

- `hashing`: canonical text of a value and the surrogate-key hash.
- `dimension`: SCD 0/1/2/3 dimension loads (`DimensionState`, `load`).
- `fact`: fact loads (`FactState`, `load_fact`).
- `calendar`: the calendar dimension (`CalendarState`, `load_calendar`).
"""
