"""The dimension load (docs/semantics.md, "Dimension tables") as a staged plan.

1. `batch`: the source rows with their change timestamp and delete flag, identical
   rows collapsed, NULL keys left out (counted), conflicts checked or picked.
2. `classified`: each batch row is *chain*, *old* (already known) or *late* against
   the key's latest stored version and, for old rows, the stored history. Two kinds
   of chain row are split off because most rows of a batch are one of them: *noop*
   (changes nothing) and *simple* (the key's only row, newer than an open latest
   version, or a new key). A full-snapshot load also classifies the open keys the
   batch lacks (*absent*) in the same join.
3. `changes`: the final image of every row that must be inserted or updated. Chain
   rows of a key follow its latest version (the *anchor*) in time order; window
   functions turn that ordered chain into version groups, scd0/1/3 values and
   validity ranges, so several versions of one key are applied in one load. Simple
   rows get the same images by plain projection, without the windows.
4. apply: one MERGE on the surrogate key (every changed row is a full image, so the
   MERGE needs no conditions), or UPDATE ... FROM + INSERT where MERGE is missing.

The SQL is written once in DuckDB's dialect with every identifier quoted, parsed by
sqlglot into expressions, and rendered per dialect from there. The hash expressions
(surrogate keys, the row hash that picks among duplicates) are spliced in as sqlglot
nodes after parsing (`loads.sql.Spliced`), not written as DuckDB text: each dialect
spells them its own way (docs/hashing.md). Internal columns are prefixed `_mc_` so they
cannot collide with a model's columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from .. import hashing, ir
from ..plan import CHANGED_AT, IS_DELETED, LOADED_AT, UPDATED_AT, TableSpec
from . import LOAD_TS, LoadPlan, Step, Upsert
from .sql import READ, Spliced, lit, ne_any, on, parse, q, qt

MEMBER_VALID_FROM = "0001-01-01 00:00:00"


@dataclass(frozen=True, slots=True)
class Names:
    """Physical names used by one dimension's load."""

    target: str
    source: str
    batch: str
    classified: str
    old: str
    changes: str


class DimensionLoad:
    """Builds the plan for one dimension; one instance per dimension, discarded after."""

    def __init__(
        self,
        dim: ir.Dimension,
        source: ir.Source,
        settings: ir.Settings,
        table: TableSpec,
        added: Mapping[str, dt.datetime] | None = None,
    ):
        self.dim, self.source, self.settings = dim, source, settings
        # Tracked columns that joined the model after the table was created, and when (docs/semantics.md):
        # a NULL there in a row loaded before is "not known yet", never a change.
        self.added = {c: ts for c, ts in (added or {}).items() if c in {t.name for t in dim.columns}}
        self.columns = list(table.column_names)
        self.keys = [c.name for c in dim.key]
        self.key_types = {c.name: c.type for c in dim.key}
        self.tracked = list(dim.columns)
        self.cols = [c.name for c in self.tracked]
        self.by_scd = {k: [c.name for c in self.tracked if c.scd == k] for k in (0, 1, 2, 3)}
        self.prev = {c.name: c.previous or f"previous_{c.name}" for c in self.tracked if c.scd == 3}
        h = dim.history
        self.vf, self.vt, self.ic = h.valid_from, h.valid_to, h.is_current
        self.versioned = dim.versioned
        self.tomb = dim.deletes.mode == "tombstone"
        self.invalidate = dim.deletes.mode == "invalidate"
        self.cdc = dim.deletes.where is not None
        self.sk = f"{dim.name}_key"
        tag = f"_mc_{dim.name}"
        self.n = Names(
            target=qt(settings.schema, dim.name),
            source=qt(source.schema, source.table),
            batch=q(f"{tag}_batch"),
            classified=q(f"{tag}_classified"),
            old=q(f"{tag}_old"),
            changes=q(f"{tag}_changes"),
        )
        self.unknown_key = lit(hashing.special_key("unknown", settings.hash))
        self.error = lit(hashing.special_key("error", settings.hash))
        self.load_ts = f"CAST(${LOAD_TS} AS TIMESTAMP)"
        self.hashes = Spliced()  # hash expressions, put into the parsed statements

    # ---- physical layout --------------------------------------------------------------

    def table_columns(self) -> list[str]:
        """Columns of the dimension table, in order, as the table plan lays them out."""
        return self.columns

    # ---- building blocks ---------------------------------------------------------------

    def _source_expr(self, col: ir.DimensionColumn) -> str:
        if col.expression is not None:
            return f"({sqlglot.parse_one(col.expression, read=READ).sql(READ, identify=True)})"
        return f"s.{q(col.name)}"

    def _change_ts(self) -> str:
        ch = self.dim.change
        if ch.by == "timestamp" and ch.column:
            col = self.source.column(ch.column)
            expr = f"s.{q(ch.column)}"
            if col is not None and col.type.name == "timestamptz":
                expr = f"timezone('UTC', {expr})"
            return f"CAST({expr} AS TIMESTAMP)"
        return self.load_ts

    def _required(self) -> list[str]:
        """Columns a row cannot be loaded without: the key, and the change timestamp column."""
        ch = self.dim.change
        return [*self.keys, *([ch.column] if ch.by == "timestamp" and ch.column else [])]

    def _filter(self) -> str:
        conds = [f"s.{q(k)} IS NOT NULL" for k in self._required()]
        if self.dim.filter:
            conds.insert(0, f"({sqlglot.parse_one(self.dim.filter, read=READ).sql(READ, identify=True)})")
        return " AND ".join(conds)

    def _delete_flag(self) -> str:
        if self.dim.deletes.where is None:
            return "FALSE"
        cond = sqlglot.parse_one(self.dim.deletes.where, read=READ).sql(READ, identify=True)
        return f"COALESCE(({cond}), FALSE)"

    def _row_hash(self, alias: str) -> str:
        values = [(exp.column(c, table=alias, quoted=True), self._type(c)) for c in self.cols]
        return self.hashes.add(hashing.hash_key(values, self.settings.hash))

    def unknown(self, alias: str, col: str) -> str | None:
        """`alias` does not know `col` yet: NULL in a row loaded before the column joined the model."""
        if col not in self.added:
            return None
        since = f"CAST({lit(self.added[col].isoformat(sep=' '))} AS TIMESTAMP)"
        return f"({alias}.{q(col)} IS NULL AND {alias}.{q(LOADED_AT)} < {since})"

    def eq_known(self, cols: list[str], left: str, stored: str) -> str:
        """Null-safe equality of `cols`, a column the stored row does not know yet counting as equal."""
        parts = []
        for c in cols:
            eq = f"{left}.{q(c)} IS NOT DISTINCT FROM {stored}.{q(c)}"
            unknown = self.unknown(stored, c)
            parts.append(f"({eq} OR {unknown})" if unknown else eq)
        return " AND ".join(parts) or "TRUE"

    def _type(self, name: str) -> ir.Type:
        if name in self.key_types:
            return self.key_types[name]
        return next(c.type for c in self.tracked if c.name == name)

    def _surrogate(self, alias: str, valid_from: str | None) -> str:
        values = [(exp.column(k, table=alias, quoted=True), self.key_types[k]) for k in self.keys]
        if valid_from is not None:
            values.append((exp.column(valid_from, table=alias, quoted=True), ir.Type("timestamp")))
        return self.hashes.add(hashing.hash_key(values, self.settings.hash))

    # ---- stage 1: the batch -----------------------------------------------------------------

    def stage_batch(self) -> list[Step]:
        keys = ", ".join(f"s.{q(k)}" for k in self.keys)
        tracked = ", ".join(f"{self._source_expr(c)} AS {q(c.name)}" for c in self.tracked)
        select = (
            f"SELECT DISTINCT {keys}{', ' + tracked if tracked else ''}, {self._change_ts()} AS _mc_ts, "
            f"{self._delete_flag()} AS _mc_del FROM {self.n.source} AS s WHERE {self._filter()}"
        )
        cols = ", ".join(q(c) for c in [*self.keys, *self.cols, "_mc_ts", "_mc_del"])
        key_cols = ", ".join(q(k) for k in self.keys)
        steps: list[Step] = []
        if self.dim.duplicates == "pick":
            select = (
                f"SELECT {cols} FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY {key_cols}, _mc_ts "
                f"ORDER BY {self._row_hash('d')}, _mc_del DESC) AS _mc_pick FROM ({select}) AS d) AS p "
                "WHERE _mc_pick = 1"
            )
        steps.append(Step("stage", self.hashes.parse(f"CREATE TEMPORARY TABLE {self.n.batch} AS {select}"), "batch"))
        return steps

    def _conflicts(self) -> list[Step]:
        """`duplicates error`: different rows of a key at one change timestamp. Read from the classified rows
        of keys with several rows (`_mc_n > 1`, never noop), not by grouping the whole batch again."""
        if self.dim.duplicates != "error":
            return []
        key_cols = ", ".join(q(k) for k in self.keys)
        check = (
            f"SELECT {key_cols}, _mc_ts FROM {self.n.classified} WHERE _mc_n > 1 GROUP BY {key_cols}, _mc_ts "
            f"HAVING COUNT(*) > 1 ORDER BY {key_cols}, _mc_ts LIMIT 11"
        )
        message = "different rows with the same key and change timestamp (duplicates error)"
        return [Step("check", self.hashes.parse(check), "conflicts", message)]

    # ---- stage 2: classification ------------------------------------------------------------

    def _latest(self) -> str:
        """The latest stored version of every key (members aside).

        A non-versioned dimension has one row per key (its surrogate key is the key's hash). A versioned one
        has at most one current version per key, and it is the key's latest (versions are only appended
        after the latest, which closes): the current rows, and a window only over the closed history of
        keys that have no current row, instead of a window over the whole table.
        """
        members = f"t.{q(self.sk)} NOT IN ({self.unknown_key}, {self.error})"
        if not self.versioned:
            return f"SELECT t.*, 1 AS _mc_rn FROM {self.n.target} AS t WHERE {members}"
        keys = ", ".join(q(k) for k in self.keys)
        return (
            f"SELECT t.*, 1 AS _mc_rn FROM {self.n.target} AS t WHERE t.{q(self.ic)} AND {members} UNION ALL "
            f"SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY {keys} "
            f"ORDER BY t.{q(self.vf)} DESC) AS _mc_rn FROM {self.n.target} AS t WHERE NOT t.{q(self.ic)} "
            f"AND NOT EXISTS (SELECT 1 FROM {self.n.target} AS c WHERE {on(self.keys, 'c', 't')} "
            f"AND c.{q(self.ic)})) AS x WHERE _mc_rn = 1"
        )

    def _open_latest(self) -> str:
        """The key's latest version `l` is open: current, and not a tombstone."""
        return f"l.{q(self.ic)}" + (f" AND NOT l.{q(IS_DELETED)}" if self.tomb else "")

    def _noop(self) -> str:
        """`WHEN ... THEN 'noop'`: a row that changes nothing, kept out of the chain pipeline.

        The only row of its key in the batch, not a delete, not older than the key's latest stored
        version, which is open (current, not a tombstone) and holds exactly the row's values (null-safe;
        a value the stored row does not know yet is not "equal" here). Such a row would be a chain row
        that joins the latest version's group and leaves it as it is; the key still counts as present
        (it is in the batch, so never `absent`), and `fill` / scd1 `all` read noop rows as chain rows.
        """
        conds = ["b._mc_n = 1", "NOT b._mc_del", f"b._mc_ts >= l.{q(CHANGED_AT)}"]
        if self.versioned:
            conds.append(self._open_latest())
        conds += [f"b.{q(c)} IS NOT DISTINCT FROM l.{q(c)}" for c in self.cols]
        return f"WHEN {' AND '.join(conds)} THEN 'noop' "

    def _fast_path(self) -> bool:
        """Whether `simple` rows skip the chain pipeline: a versioned dimension without scd3 columns and
        without updates to older versions (their images need the pipeline's windows)."""
        return self.versioned and not self.by_scd[3] and not self._updates_older()

    def _simple(self) -> tuple[str, str]:
        """`WHEN ... THEN 'simple'` for a new key, and for a known one (see `_simple_images`).

        The only row of its key in the batch, not a delete, and either the key is new or its latest version
        is open and older than the row (in data and in validity): a chain of one row after one anchor, whose
        images need no window function. Most rows of a batch are such rows or noop rows.
        """
        if not self._fast_path():
            return "", ""
        one = "b._mc_n = 1 AND NOT b._mc_del"
        open_latest = self._open_latest()
        return (
            f"WHEN l.{q(self.sk)} IS NULL AND {one} THEN 'simple' ",
            f"WHEN {one} AND {open_latest} AND b._mc_ts > l.{q(CHANGED_AT)} AND b._mc_ts > l.{q(self.vf)} "
            "THEN 'simple' ",
        )

    def _simple_images(self, open_end: str) -> list[str]:
        """Images of `simple` rows, as the chain pipeline would make them for an anchor and one newer row:
        a changed scd2 value closes the anchor at the row's time and opens a version there (scd0 values kept
        from the anchor); otherwise changed scd1 values update the anchor in place (its as-of time advances).
        """
        lts, sk = self.load_ts, q(self.sk)
        keys = [q(k) for k in self.keys]
        scd2 = ne_any([(f"c.{q(c)}", f"l.{q(c)}") for c in self.by_scd[2]])
        scd1 = ne_any([(f"c.{q(c)}", f"l.{q(c)}") for c in self.by_scd[1]])
        new_vals = [
            f"CASE WHEN l.{sk} IS NULL THEN c.{q(c.name)} ELSE l.{q(c.name)} END" if c.scd == 0 else f"c.{q(c.name)}"
            for c in self.tracked
        ]
        in_place = [f"l.{q(c.name)}" if c.scd == 0 else f"c.{q(c.name)}" for c in self.tracked]
        tomb_new, tomb_l = (", FALSE", f", l.{q(IS_DELETED)}") if self.tomb else ("", "")
        src = (
            f"FROM {self.n.classified} AS c LEFT JOIN lat AS l ON l.{sk} = c._mc_lat_sk "
            "WHERE c._mc_class = 'simple' AND "
        )
        ks = ", ".join(f"c.{k}" for k in keys)
        stored = ", ".join(f"l.{q(c)}" for c in self.cols)
        return [
            f"SELECT {self._surrogate('c', '_mc_ts')}, {ks}, {', '.join(new_vals)}, c._mc_ts, {open_end}, TRUE"
            f"{tomb_new}, c._mc_ts, {lts}, CAST(NULL AS TIMESTAMP), 'insert', 0 {src}(l.{sk} IS NULL OR {scd2})",
            f"SELECT l.{sk}, {ks}, {stored}, l.{q(self.vf)}, c._mc_ts, FALSE{tomb_l}, l.{q(CHANGED_AT)}, "
            f"l.{q(LOADED_AT)}, {lts}, 'close', 1 {src}l.{sk} IS NOT NULL AND {scd2}",
            f"SELECT l.{sk}, {ks}, {', '.join(in_place)}, l.{q(self.vf)}, l.{q(self.vt)}, l.{q(self.ic)}{tomb_l}, "
            f"c._mc_ts, l.{q(LOADED_AT)}, {lts}, 'update', 0 {src}l.{sk} IS NOT NULL AND NOT {scd2} AND {scd1}",
        ]

    def stage_classified(self) -> list[Step]:
        s2 = self.by_scd[2]
        if self.versioned:
            open_latest = self._open_latest()
            deleted_at = (
                f"(CASE WHEN l.{q(IS_DELETED)} THEN l.{q(self.vf)} ELSE l.{q(self.vt)} END)"
                if self.tomb
                else f"l.{q(self.vt)}"
            )
            chain = (
                f"WHEN b._mc_ts > l.{q(CHANGED_AT)} THEN 'chain' "
                # At the as-of time itself: the same data again, or the key back after a deletion that
                # happened later than its data (a snapshot delete); a CDC delete at that very instant
                # leaves the row unordered against it, so it is not chained (it is checked as old).
                f"WHEN b._mc_ts = l.{q(CHANGED_AT)} AND NOT b._mc_del AND (({open_latest} AND "
                f"{self.eq_known(s2, 'b', 'l')}) OR (NOT ({open_latest}) AND {deleted_at} > l.{q(CHANGED_AT)})) "
                "THEN 'chain' "
            )
            # A deleted key reopens no earlier than its deletion: the end of a closed version,
            # the start of a tombstone.
            # (a row at a tombstone's very start would collide with it, so that bound is strict).
            tomb_floor = f"WHEN l.{q(IS_DELETED)} THEN l.{q(self.vf)} " if self.tomb else ""
            tomb_strict = f"CASE WHEN l.{q(IS_DELETED)} THEN 1 ELSE 0 END" if self.tomb else "0"
            # An older row equal to the open latest version (scd0 aside) changes nothing: known, not late.
            same = self.eq_known([c for c in self.cols if c not in self.by_scd[0]], "b", "l")
            extra = (
                f", CASE WHEN l.{q(self.sk)} IS NULL THEN NULL WHEN NOT l.{q(self.ic)} THEN l.{q(self.vt)} "
                f"{tomb_floor}ELSE NULL END AS _mc_floor, {tomb_strict} AS _mc_floor_strict, "
                f"l.{q(self.vf)} AS _mc_lat_vf, CASE WHEN l.{q(self.sk)} IS NOT NULL AND {open_latest} AND {same} "
                "THEN 1 ELSE 0 END AS _mc_same"
            )
        else:
            chain = f"WHEN b._mc_ts > l.{q(CHANGED_AT)} THEN 'chain' "
            # An older row that equals the stored one changes nothing: it is known, not late.
            same = self.eq_known(self.by_scd[1] + self.by_scd[3], "b", "l")
            extra = (
                f", CASE WHEN l.{q(self.sk)} IS NOT NULL AND {same} THEN 1 ELSE 0 END AS _mc_same, "
                f"CASE WHEN b._mc_ts = l.{q(CHANGED_AT)} THEN 1 ELSE 0 END AS _mc_at_asof"
            )
        # `_mc_n`: 1 for a key's only row, 2 for a key with several; joining back the few keys with several
        # rows is cheaper than a count window over the whole batch
        keys = ", ".join(q(k) for k in self.keys)
        counted = (
            f"(SELECT bb.*, CASE WHEN mk.{q(self.keys[0])} IS NULL THEN 1 ELSE 2 END AS _mc_n "
            f"FROM {self.n.batch} AS bb LEFT JOIN (SELECT {keys} FROM {self.n.batch} GROUP BY {keys} "
            f"HAVING COUNT(*) > 1) AS mk ON {on(self.keys, 'bb', 'mk')}) AS b"
        )
        if self._snapshot_deleting():
            # Keys of open latest versions that the batch lacks come out of the same join as `absent` rows
            # (the snapshot deletes), instead of a second join of every stored key against the batch.
            batch_cols = [*self.keys, *self.cols, "_mc_ts", "_mc_del", "_mc_n"]
            select = ", ".join(
                f"COALESCE(b.{q(c)}, l.{q(c)}) AS {q(c)}" if c in self.keys else f"b.{q(c)}" for c in batch_cols
            )
            open_latest = self._open_latest()
            absent = f"WHEN b.{q(self.keys[0])} IS NULL THEN 'absent' "
            join = f"FULL JOIN lat AS l ON {on(self.keys, 'b', 'l')} WHERE b.{q(self.keys[0])} IS NOT NULL "
            join += f"OR ({open_latest})"
        else:
            select, absent, join = "b.*", "", f"LEFT JOIN lat AS l ON {on(self.keys, 'b', 'l')}"
        simple_new, simple = self._simple()
        sql = (
            f"SELECT {select}, CASE {absent}{simple_new}WHEN l.{q(self.sk)} IS NULL THEN 'chain' "
            f"{self._noop()}{simple}{chain}ELSE 'old' END AS _mc_class, l.{q(self.sk)} AS _mc_lat_sk{extra} "
            f"FROM {counted} {join}"
        )
        if not self._reads_noop_rows():
            sql = f"SELECT * FROM ({sql}) AS x WHERE _mc_class <> 'noop'"  # most rows: not written at all
        sql = f"CREATE TEMPORARY TABLE {self.n.classified} AS WITH lat AS ({self._latest()}) {sql}"
        steps = [Step("stage", self.hashes.parse(sql), "classify"), *self._conflicts()]
        key_cols = ", ".join(f"k.{q(k)}" for k in self.keys)
        if self.versioned:
            not_deleted = f" AND NOT v.{q(IS_DELETED)}" if self.tomb else ""
            old = (
                f"CREATE TEMPORARY TABLE {self.n.old} AS SELECT {key_cols}, k._mc_ts, k._mc_del, "
                f"COUNT(v.{q(self.sk)}) AS _mc_open, MAX(CASE WHEN v.{q(self.sk)} IS NOT NULL AND "
                f"{self.eq_known(s2, 'k', 'v')} THEN 1 ELSE 0 END) AS _mc_agree, MAX(k._mc_same) AS _mc_same "
                f"FROM {self.n.classified} AS k LEFT JOIN {self.n.target} AS v ON {on(self.keys, 'v', 'k')} "
                f"AND v.{q(self.vf)} <= k._mc_ts AND (v.{q(self.vt)} IS NULL OR k._mc_ts < v.{q(self.vt)})"
                f"{not_deleted} WHERE k._mc_class = 'old' GROUP BY {key_cols}, k._mc_ts, k._mc_del"
            )
            late = (
                f"SELECT * FROM {self.n.old} WHERE (NOT _mc_del AND _mc_agree = 0 AND _mc_same = 0) "
                "OR (_mc_del AND _mc_open > 0)"
            )
        else:
            # An older, different row is superseded when the batch reaches the stored state (a newer
            # row, or the stored one again): the rerun of a chain. Otherwise it is late.
            old = (
                f"CREATE TEMPORARY TABLE {self.n.old} AS SELECT * FROM (SELECT {key_cols}, k._mc_ts, k._mc_del, "
                f"k._mc_class, k._mc_same, k._mc_at_asof, MAX(CASE WHEN k._mc_class = 'chain' OR "
                f"(k._mc_at_asof = 1 AND k._mc_same = 1) THEN 1 ELSE 0 END) OVER (PARTITION BY {key_cols}) "
                f"AS _mc_reach FROM {self.n.classified} AS k) AS o WHERE _mc_class = 'old'"
            )
            late = f"SELECT * FROM {self.n.old} WHERE _mc_same = 0 AND (_mc_at_asof = 1 OR _mc_reach = 0)"
        steps.append(Step("stage", self.hashes.parse(old), "history check"))
        if self.dim.late == "error":
            key_list = ", ".join(q(k) for k in self.keys)
            check = f"SELECT {key_list}, _mc_ts FROM ({late}) AS x ORDER BY {key_list}, _mc_ts LIMIT 11"
            message = "rows older than the stored history that disagree with it (late error)"
            steps.append(Step("check", self.hashes.parse(check), "late rows", message))
        self._late_sql = late
        return steps

    # ---- stage 3: the changes ----------------------------------------------------------------

    def _chain_ctes(self) -> str:
        """CTEs `u` .. `d3` (see the module docstring)."""
        keys = [q(k) for k in self.keys]
        part = ", ".join(keys)
        cols = [q(c) for c in self.cols]
        prevs = [q(self.prev[c]) for c in self.by_scd[3]]
        # anchors: the latest stored version of each key that has chain rows
        if self.versioned:
            state = (
                f"CASE WHEN l.{q(IS_DELETED)} THEN 'deleted' " if self.tomb else "CASE "
            ) + f"WHEN l.{q(self.ic)} THEN 'open' ELSE 'closed' END"
            anchor_eff, anchor_meta = f"l.{q(self.vf)}", f"l.{q(self.vf)}, l.{q(self.vt)}"
            # A row that is not newer than the deletion tells only that the key is back by now.
            stale = "(c._mc_ts < c._mc_floor OR (c._mc_ts = c._mc_floor AND c._mc_floor_strict = 1))"
            row_eff = (
                f"CASE WHEN {stale} THEN GREATEST({self.load_ts}, c._mc_floor) "
                "ELSE GREATEST(c._mc_ts, COALESCE(c._mc_lat_vf, c._mc_ts)) END"
            )
            clamped = f"CASE WHEN {stale} THEN 1 ELSE 0 END"
        else:
            state, anchor_eff, anchor_meta = "'open'", f"l.{q(CHANGED_AT)}", "NULL, NULL"
            row_eff, clamped = "c._mc_ts", "0"
        del_state = "'deleted'" if self.tomb else "'closed'"
        anchor_cols = []
        for c in self.cols:
            unknown = self.unknown("l", c)
            # a value the anchor does not know yet is the key's first incoming one (filled in place)
            filled = f"CASE WHEN {unknown} THEN f.{q(c)} ELSE l.{q(c)} END AS {q(c)}"
            anchor_cols.append(filled if unknown else f"l.{q(c)}")
        lsel = ", ".join([*(f"l.{k}" for k in keys), *anchor_cols, *(f"l.{p}" for p in prevs)])
        fill_join = f"LEFT JOIN fill AS f ON {on(self.keys, 'l', 'f')} " if self.added else ""
        csel = ", ".join([*(f"c.{k}" for k in keys), *(f"c.{c}" for c in cols), *("NULL" for _ in prevs)])
        skip_deletes = "" if (self.tomb or self.invalidate) else " AND NOT c._mc_del"
        u = (
            f"u AS (SELECT {lsel}, l.{q(CHANGED_AT)} AS _mc_ts, {anchor_eff} AS _mc_eff, FALSE AS _mc_del, "
            f"1 AS _mc_anchor, {state} AS _mc_state, l.{q(self.sk)} AS _mc_sk, {anchor_meta.split(', ')[0]} AS _mc_vf, "
            f"{anchor_meta.split(', ')[1]} AS _mc_vt, l.{q(LOADED_AT)} AS _mc_la, l.{q(CHANGED_AT)} AS _mc_ch, "
            "0 AS _mc_clamped "
            f"FROM lat AS l JOIN (SELECT DISTINCT {part} FROM {self.n.classified} "
            "WHERE _mc_class = 'chain') AS ck "
            f"ON {on(self.keys, 'l', 'ck')} {fill_join}"
            f"UNION ALL SELECT {csel}, c._mc_ts, {row_eff}, c._mc_del, 0, "
            f"CASE WHEN c._mc_del THEN {del_state} ELSE 'open' END, NULL, NULL, NULL, NULL, NULL, {clamped} "
            f"FROM {self.n.classified} AS c WHERE c._mc_class = 'chain'{skip_deletes})"
        )
        # Rows not newer than a deletion share the reopening time: keep the newest of them; and when the
        # batch also has a row newer than the deletion, that row tells more: they are superseded by it.
        u2 = (
            f"u2 AS (SELECT * FROM (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY {part}, _mc_eff, _mc_anchor "
            f"ORDER BY _mc_ts DESC) AS _mc_r, MAX(CASE WHEN _mc_anchor = 0 AND _mc_clamped = 0 THEN 1 ELSE 0 END) "
            f"OVER (PARTITION BY {part}) AS _mc_fresh FROM u) AS x WHERE _mc_r = 1 "
            "AND NOT (_mc_clamped = 1 AND _mc_fresh = 1))"
        )
        s1 = (
            f"s1 AS (SELECT u2.*, ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY _mc_eff, _mc_anchor DESC, "
            f"_mc_ts) AS _mc_seq FROM u2)"
        )
        w = f"OVER (PARTITION BY {part} ORDER BY _mc_seq)"
        lags = "".join(f", LAG({q(c)}) {w} AS {q('_mc_lag_' + c)}" for c in self.by_scd[2])
        s2 = (
            f"s2 AS (SELECT s1.*, LAG(_mc_state) {w} AS _mc_prev_state, LAG(_mc_eff) {w} AS _mc_prev_eff{lags} FROM s1)"
        )
        s2_changed = ne_any([(q(c), q("_mc_lag_" + c)) for c in self.by_scd[2]])
        tomb_start = "CASE WHEN _mc_prev_state = 'open' THEN 1 ELSE 0 END" if self.tomb else "0"
        close = "CASE WHEN _mc_del AND _mc_prev_state = 'open' THEN 1 ELSE 0 END" if self.invalidate else "0"
        s3 = (
            # A row at the same instant as the version before it changes that version in place
            # (it happens when a version had to start later than its data, after a reappearance).
            f"s3 AS (SELECT s2.*, CASE WHEN _mc_anchor = 1 THEN 0 WHEN _mc_eff = _mc_prev_eff THEN 0 "
            f"WHEN _mc_del THEN {tomb_start} "
            f"WHEN _mc_prev_state IS NULL OR _mc_prev_state <> 'open' THEN 1 WHEN {s2_changed} THEN 1 ELSE 0 END "
            f"AS _mc_start, {close} AS _mc_close FROM s2)"
        )
        upto = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        s4 = (
            f"s4 AS (SELECT s3.*, SUM(_mc_start) OVER (PARTITION BY {part} ORDER BY _mc_seq {upto}) AS _mc_grp, "
            f"MIN(CASE WHEN _mc_start = 1 OR _mc_close = 1 THEN _mc_eff END) OVER (PARTITION BY {part} "
            f"ORDER BY _mc_seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS _mc_next_end, "
            f"MAX(CASE WHEN NOT _mc_del THEN _mc_seq END) OVER (PARTITION BY {part} ORDER BY _mc_seq {upto}) "
            f"AS _mc_data_seq FROM s3)"
        )
        # values over the data rows: scd0 first value, scd1 last value, scd3 previous values
        whole = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
        wd = f"OVER (PARTITION BY {part} ORDER BY _mc_seq)"
        d1_parts = [
            f"FIRST_VALUE({q(c)}) OVER (PARTITION BY {part} ORDER BY _mc_seq {whole}) AS {q('_mc_s0_' + c)}"
            for c in self.by_scd[0]
        ]
        d1_parts += [
            f"FIRST_VALUE({q(c)}) OVER (PARTITION BY {part} ORDER BY _mc_seq DESC {whole}) AS {q('_mc_s1_' + c)}"
            for c in self.by_scd[1]
        ]
        for i, c in enumerate(self.by_scd[3]):
            d1_parts.append(
                f"CASE WHEN ROW_NUMBER() {wd} = 1 THEN 1 WHEN {q(c)} IS DISTINCT FROM LAG({q(c)}) {wd} THEN 1 "
                f"ELSE 0 END AS _mc_chg{i}"
            )
            d1_parts.append(
                f"CASE WHEN _mc_anchor = 1 THEN {q(self.prev[c])} WHEN ROW_NUMBER() {wd} = 1 THEN NULL "
                f"ELSE LAG({q(c)}) {wd} END AS _mc_pv{i}"
            )
        d1 = f"d1 AS (SELECT s4.*{''.join(', ' + p for p in d1_parts)} FROM s4 WHERE NOT _mc_del)"
        d2_parts = [
            f"SUM(_mc_chg{i}) OVER (PARTITION BY {part} ORDER BY _mc_seq {upto}) AS _mc_g{i}"
            for i in range(len(self.by_scd[3]))
        ]
        d2 = f"d2 AS (SELECT d1.*{''.join(', ' + p for p in d2_parts)} FROM d1)"
        d3_parts = [
            f"FIRST_VALUE(_mc_pv{i}) OVER (PARTITION BY {part}, _mc_g{i} ORDER BY _mc_seq {whole}) "
            f"AS {q('_mc_p3_' + c)}"
            for i, c in enumerate(self.by_scd[3])
        ]
        d3 = f"d3 AS (SELECT d2.*{''.join(', ' + p for p in d3_parts)} FROM d2)"
        ctes = [u, u2, s1, s2, s3, s4, d1, d2, d3]
        if self.added:
            cols_sql = ", ".join(q(c) for c in self.cols)
            fill = (
                f"fill AS (SELECT {part}, {cols_sql} FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY {part} "
                f"ORDER BY _mc_ts) AS _mc_fr FROM {self.n.classified} AS c WHERE c._mc_class IN ('chain', 'noop') "
                f"AND NOT c._mc_del) AS x WHERE _mc_fr = 1)"
            )
            ctes.insert(0, fill)
        return ", ".join(ctes)

    def _image_values(self, dv: str) -> list[str]:
        """Tracked values (and scd3 previous values) of a version image, from data row `dv`."""
        out = []
        scope_all = self.dim.history.scd1_scope == "all"
        for c in self.tracked:
            if c.scd == 0:
                out.append(f"{dv}.{q('_mc_s0_' + c.name)} AS {q(c.name)}")
            elif c.scd == 1 and scope_all:
                out.append(f"{dv}.{q('_mc_s1_' + c.name)} AS {q(c.name)}")
            else:
                out.append(f"{dv}.{q(c.name)} AS {q(c.name)}")
            if c.scd == 3:
                out.append(f"{dv}.{q('_mc_p3_' + c.name)} AS {q(self.prev[c.name])}")
        return out

    def _touched_latest(self) -> str:
        """CTE `lat`: the latest stored versions this load builds on (of keys with chain rows, and of keys a
        snapshot deletes), found by the surrogate keys classification saw, not by a second window over the
        whole table; and `all_lat` (every key's) where older versions are updated too."""
        touched = (
            f"lat AS (SELECT t.* FROM {self.n.target} AS t JOIN (SELECT DISTINCT _mc_lat_sk FROM "
            f"{self.n.classified} WHERE _mc_class IN ('chain', 'simple', 'absent') AND _mc_lat_sk IS NOT NULL) AS a "
            f"ON t.{q(self.sk)} = a._mc_lat_sk)"
        )
        return f"{touched}, all_lat AS ({self._latest()})" if self._updates_older() else touched

    def _reads_noop_rows(self) -> bool:
        """Later stages read noop rows only for new columns' first values (`fill`) and scd1 `all` values."""
        return bool(self.added) or self._updates_older()

    def _updates_older(self) -> bool:
        """Versions before the latest change in place too (`_older_versions`)."""
        scd1_all = self.dim.history.scd1_scope == "all" and bool(self.by_scd[1])
        return self.versioned and (scd1_all or bool(self.added))

    def stage_changes(self) -> list[Step]:
        keys = [q(k) for k in self.keys]
        part = ", ".join(keys)
        g = (
            f"g AS (SELECT {part}, _mc_grp, MIN(_mc_seq) AS _mc_first, MAX(_mc_seq) AS _mc_last, "
            f"MAX(_mc_ts) AS _mc_maxts FROM s4 GROUP BY {part}, _mc_grp)"
        )
        img = (
            f"img AS (SELECT {', '.join('g.' + k for k in keys)}, {', '.join(self._image_values('dv'))}, "
            f"st._mc_anchor AS _mc_is_anchor, st._mc_state AS _mc_anchor_state, st._mc_sk AS _mc_old_sk, "
            f"st._mc_eff AS _mc_vf_new, st._mc_next_end AS _mc_vt_new, st._mc_del AS _mc_tomb, "
            f"st._mc_vf AS _mc_old_vf, st._mc_vt AS _mc_old_vt, st._mc_la AS _mc_old_la, st._mc_ch AS _mc_old_ch, "
            f"g._mc_maxts FROM g JOIN s4 AS st ON {on(self.keys, 'st', 'g')} AND st._mc_seq = g._mc_first "
            f"JOIN s4 AS lr ON {on(self.keys, 'lr', 'g')} AND lr._mc_seq = g._mc_last "
            f"JOIN d3 AS dv ON {on(self.keys, 'dv', 'g')} AND dv._mc_seq = lr._mc_data_seq)"
        )
        parts = self._versioned_images() if self.versioned else self._plain_images()
        sql = (
            f"CREATE TEMPORARY TABLE {self.n.changes} AS WITH {self._touched_latest()}, {self._chain_ctes()}, "
            f"{g}, {img} {parts}"
        )
        return [Step("stage", self.hashes.parse(sql), "changes")]

    def _aliased(self, exprs: list[str]) -> str:
        """`SELECT e1 AS col1, ...` naming the columns of the changes table (first branch of a UNION)."""
        names = [*self.table_columns(), "_mc_op", "_mc_closed"]
        assert len(names) == len(exprs), (names, exprs)
        return "SELECT " + ", ".join(f"{e} AS {q(n)}" for e, n in zip(exprs, names, strict=True))

    def _versioned_images(self) -> str:
        """SELECT ... UNION ALL ... of every row image to insert or update."""
        lts = self.load_ts
        sentinel = self.dim.history.open_end
        open_end = f"CAST({lit(sentinel.isoformat())} AS TIMESTAMP)" if sentinel else "CAST(NULL AS TIMESTAMP)"
        keys = [q(k) for k in self.keys]
        values = []
        for c in self.tracked:
            values.append(q(c.name))
            if c.scd == 3:
                values.append(q(self.prev[c.name]))
        vals = ", ".join(f"i.{v}" for v in values)
        # new versions
        head = [self._surrogate("i", "_mc_vf_new"), *(f"i.{k}" for k in keys), *(f"i.{v}" for v in values)]
        head += ["i._mc_vf_new", f"COALESCE(i._mc_vt_new, {open_end})", "i._mc_vt_new IS NULL"]
        head += ["i._mc_tomb"] if self.tomb else []
        head += ["i._mc_maxts", lts, "CAST(NULL AS TIMESTAMP)", "'insert'", "0"]
        new = f"{self._aliased(head)} FROM img AS i WHERE i._mc_is_anchor = 0"
        # the anchor version: closed or changed in place (a closed anchor keeps its end)
        new_vt = (
            f"CASE WHEN i._mc_anchor_state = 'closed' THEN i._mc_old_vt ELSE COALESCE(i._mc_vt_new, {open_end}) END"
        )
        new_ic = "CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END"
        in_place = [(f"i.{v}", f"t.{v}") for v in values]
        changed = ne_any([*in_place, (new_vt, f"t.{q(self.vt)}"), (new_ic, f"t.{q(self.ic)}")])
        tomb_t = f", t.{q(IS_DELETED)}" if self.tomb else ""
        anchor = (
            f"SELECT i._mc_old_sk, {', '.join('i.' + k for k in keys)}, {vals}, i._mc_old_vf, {new_vt}, {new_ic}"
            f"{tomb_t}, i._mc_maxts, i._mc_old_la, {lts}, 'update', CASE WHEN t.{q(self.ic)} AND NOT ({new_ic}) "
            f"THEN 1 ELSE 0 END FROM img AS i JOIN {self.n.target} AS t ON t.{q(self.sk)} = i._mc_old_sk "
            f"WHERE i._mc_is_anchor = 1 AND {changed}"
        )
        selects = [new, anchor, *(self._simple_images(open_end) if self._fast_path() else ())]
        older = self._older_versions(keys)
        if older:
            selects.append(older)
        if self._snapshot_deleting():
            selects += self._snapshot_deletes(values)
        return " UNION ALL ".join(selects)

    def _older_versions(self, keys: list[str]) -> str | None:
        """Stored versions before the latest, updated in place: scd1 under `scd1_scope all`, and columns
        they do not know yet (the key's first incoming value)."""
        lts = self.load_ts
        s1 = self.by_scd[1] if self.dim.history.scd1_scope == "all" else []
        filled = [c for c in self.cols if c in self.added]
        if not s1 and not filled:
            return None
        exprs, changed = [], []
        for v in values_names(self.tracked, self.prev):
            if v in s1:
                expr = f"k1.{q(s1_name(v))}"
            elif v in filled:
                expr = f"CASE WHEN {self.unknown('t', v)} THEN f.{q(v)} ELSE t.{q(v)} END"
            else:
                expr = f"t.{q(v)}"
            exprs.append(expr)
            if expr != f"t.{q(v)}":
                changed.append((expr, f"t.{q(v)}"))
        joins = ""
        if s1:
            # noop keys (see `_noop`) have no rows in d3: their scd1 values are their batch row's
            noop = ", ".join(f"c.{q(c)} AS {q(s1_name(c))}" for c in s1)
            joins += (
                f"JOIN (SELECT DISTINCT {part_k(keys)}, {', '.join(q(s1_name(c)) for c in s1)} FROM d3 "
                f"UNION ALL SELECT {', '.join('c.' + k for k in keys)}, {noop} FROM {self.n.classified} AS c "
                f"WHERE c._mc_class = 'noop') AS k1 ON {on(self.keys, 't', 'k1')} "
            )
        if filled:
            # only keys this batch touches: `fill` has their first incoming values
            joins += f"{'LEFT ' if s1 else ''}JOIN fill AS f ON {on(self.keys, 't', 'f')} "
        tail = f", t.{q(IS_DELETED)}" if self.tomb else ""
        return (
            f"SELECT t.{q(self.sk)}, {', '.join('t.' + k for k in keys)}, {', '.join(exprs)}, t.{q(self.vf)}, "
            f"t.{q(self.vt)}, t.{q(self.ic)}{tail}, t.{q(CHANGED_AT)}, t.{q(LOADED_AT)}, {lts}, 'update', 0 "
            f"FROM {self.n.target} AS t {joins}LEFT JOIN all_lat AS l ON l.{q(self.sk)} = t.{q(self.sk)} "
            f"WHERE l.{q(self.sk)} IS NULL AND t.{q(self.sk)} NOT IN ({self.unknown_key}, {self.error}) "
            f"AND {ne_any(changed)}"
        )

    def _snapshot_deleting(self) -> bool:
        """A key missing from a batch is deleted: `deletes invalidate|tombstone` without a CDC condition."""
        return self.versioned and (self.invalidate or self.tomb) and not self.cdc

    def _snapshot_deletes(self, values: list[str]) -> list[str]:
        lts = self.load_ts
        keys = [q(k) for k in self.keys]
        close_at = f"GREATEST({lts}, l.{q(self.vf)})"
        # open latest versions of keys the batch lacks (classified `absent`); an empty batch deletes nothing
        absent = (
            f"FROM lat AS l JOIN {self.n.classified} AS a ON {on(self.keys, 'l', 'a')} "
            f"AND a._mc_class = 'absent' WHERE EXISTS (SELECT 1 FROM {self.n.batch})"
        )
        vals = ", ".join(f"l.{v}" for v in values)
        tomb_false = ", FALSE" if self.tomb else ""
        out = [
            f"SELECT l.{q(self.sk)}, {', '.join('l.' + k for k in keys)}, {vals}, l.{q(self.vf)}, {close_at}, FALSE"
            f"{tomb_false}, l.{q(CHANGED_AT)}, l.{q(LOADED_AT)}, {lts}, 'close', 1 {absent}"
        ]
        if self.tomb:
            sentinel = self.dim.history.open_end
            open_end = f"CAST({lit(sentinel.isoformat())} AS TIMESTAMP)" if sentinel else "CAST(NULL AS TIMESTAMP)"
            values_sk = [(exp.column(k, table="l", quoted=True), self.key_types[k]) for k in self.keys]
            values_sk.append((parse(close_at), ir.Type("timestamp")))
            sk = self.hashes.add(hashing.hash_key(values_sk, self.settings.hash))
            out.append(
                f"SELECT {sk}, {', '.join('l.' + k for k in keys)}, {vals}, {close_at}, {open_end}, TRUE, TRUE, "
                f"l.{q(CHANGED_AT)}, {lts}, CAST(NULL AS TIMESTAMP), 'insert', 0 {absent}"
            )
        return out

    def _plain_images(self) -> str:
        lts = self.load_ts
        keys = [q(k) for k in self.keys]
        values = values_names(self.tracked, self.prev)
        vals = ", ".join(f"i.{q(v)}" for v in values)
        head = [self._surrogate("i", None), *(f"i.{k}" for k in keys), *(f"i.{q(v)}" for v in values)]
        head += ["i._mc_maxts", lts, "CAST(NULL AS TIMESTAMP)", "'insert'", "0"]
        new = f"{self._aliased(head)} FROM img AS i WHERE i._mc_is_anchor = 0"
        changed = ne_any([(f"i.{q(v)}", f"t.{q(v)}") for v in values])
        upd = (
            f"SELECT i._mc_old_sk, {', '.join('i.' + k for k in keys)}, {vals}, i._mc_maxts, i._mc_old_la, {lts}, "
            f"'update', 0 FROM img AS i JOIN {self.n.target} AS t ON t.{q(self.sk)} = i._mc_old_sk "
            f"WHERE i._mc_is_anchor = 1 AND {changed}"
        )
        return f"{new} UNION ALL {upd}"

    # ---- members, apply, counts, cleanup ---------------------------------------------------------

    def members(self) -> list[Step]:
        cols = self.table_columns()
        steps = []
        for key in (self.unknown_key, self.error):
            values = []
            for c in cols:
                if c == self.sk:
                    values.append(key)
                elif self.versioned and c == self.vf:
                    values.append(f"CAST({lit(MEMBER_VALID_FROM)} AS TIMESTAMP)")
                elif self.versioned and c == self.ic:
                    values.append("TRUE")
                elif self.tomb and c == IS_DELETED:
                    values.append("FALSE")
                elif c in (LOADED_AT, CHANGED_AT):
                    values.append(self.load_ts)
                elif self.versioned and c == self.vt and self.dim.history.open_end:
                    values.append(f"CAST({lit(self.dim.history.open_end.isoformat())} AS TIMESTAMP)")
                else:
                    values.append("NULL")
            sql = (
                f"INSERT INTO {self.n.target} ({', '.join(q(c) for c in cols)}) SELECT {', '.join(values)} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.n.target} WHERE {q(self.sk)} = {key})"
            )
            steps.append(Step("apply", self.hashes.parse(sql), "unknown/error member"))
        return steps

    def apply(self) -> list[Step]:
        # `close` rows (a simple row's anchor, a snapshot delete) change only the validity and the update time
        narrow = (self.vt, self.ic, UPDATED_AT) if self.versioned else ()
        upsert = Upsert(self.n.target, self.n.changes, (self.sk,), tuple(self.table_columns()), narrow)
        return [Step("apply", None, "upsert", upsert=upsert)]

    def counts(self) -> Step:
        cond = sqlglot.parse_one(self.dim.filter, read=READ).sql(READ, identify=True) if self.dim.filter else "TRUE"
        filt = f"WHERE ({cond})"
        nulls = " OR ".join(f"s.{q(k)} IS NULL" for k in self._required())
        valid = " AND ".join(f"s.{q(k)} IS NOT NULL" for k in self._required())
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {self.n.changes} WHERE _mc_op = 'insert') AS inserted, "
            f"(SELECT COUNT(*) FROM {self.n.changes} WHERE _mc_op = 'update' AND _mc_closed = 0) AS updated, "
            f"(SELECT COUNT(*) FROM {self.n.changes} WHERE _mc_closed = 1) AS closed, "
            f"(SELECT COUNT(*) FROM {self.n.source} AS s {filt} AND ({nulls})) AS rejected, "
            f"(SELECT COUNT(*) FROM ({self._late_sql}) AS x) AS late, "
            f"(SELECT COUNT(*) FROM {self.n.source} AS s {filt} AND {valid}) "
            f"- (SELECT COUNT(*) FROM {self.n.batch}) AS duplicates"
        )
        return Step("count", self.hashes.parse(sql), "counts")

    def cleanup(self) -> list[Step]:
        return [
            Step("cleanup", self.hashes.parse(f"DROP TABLE IF EXISTS {t}"), "drop staging")
            for t in (self.n.changes, self.n.old, self.n.classified, self.n.batch)
        ]

    def plan(self) -> LoadPlan:
        steps = [
            *self.cleanup(),
            *self.stage_batch(),
            *self.stage_classified(),
            *self.stage_changes(),
            self.counts(),
            *self.members(),
            *self.apply(),
            *self.cleanup(),
        ]
        return LoadPlan(self.dim.name, "upsert", tuple(steps))


def s1_name(col: str) -> str:
    return "_mc_s1_" + col


def values_names(tracked: list[ir.DimensionColumn], prev: dict[str, str]) -> list[str]:
    out = []
    for c in tracked:
        out.append(c.name)
        if c.scd == 3:
            out.append(prev[c.name])
    return out


def part_k(keys: list[str]) -> str:
    return ", ".join(keys)


def plan_dimension(
    dim: ir.Dimension,
    source: ir.Source,
    settings: ir.Settings,
    table: TableSpec,
    added: Mapping[str, dt.datetime] | None = None,
) -> LoadPlan:
    return DimensionLoad(dim, source, settings, table, added).plan()
