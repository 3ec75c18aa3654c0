"""The fact load (docs/semantics.md, "Facts") as a staged plan.

The batch is read incrementally (rows past the stored watermark), NULL grains are
rejected and counted, identical rows collapse and conflicting rows of one grain
are checked or picked. Dimension references are resolved to surrogate keys with
LEFT JOINs (point in time for versioned dimensions), so an unresolved reference
becomes the unknown member and never drops a row. Stored rows that still point at
the unknown member are resolved again on every load (late-arriving members). The
changed rows are staged as full images and applied with one unconditioned MERGE on
the grain, which every MERGE dialect accepts.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from .. import hashing, ir
from ..plan import LOADED_AT, UPDATED_AT, TableSpec
from . import LOAD_TS, LoadPlan, Step, Upsert
from .sql import READ, Spliced, lit, ne_any, on, parse, q, qt


class FactLoad:
    def __init__(self, fact: ir.Fact, source: ir.Source, model: ir.Model, table: TableSpec):
        self.fact, self.source, self.model = fact, source, model
        self.settings = model.settings
        self.grain = [c.name for c in fact.grain]
        self.cols = list(table.column_names)
        self.role_keys = [f"{r.role}_key" for r in fact.references]
        self.derived = {d.name: d.expression for d in fact.derived}
        # columns copied from the source (everything but keys and metadata)
        self.data = [c for c in self.cols if c not in self.role_keys and c not in (LOADED_AT, UPDATED_AT)]
        self.target = qt(self.settings.schema, fact.name)
        tag = f"_mc_{fact.name}"
        self.batch, self.changes = q(f"{tag}_batch"), q(f"{tag}_changes")
        self.src = qt(source.schema, source.table)
        self.unknown = lit(hashing.special_key("unknown", self.settings.hash))
        self.load_ts = f"CAST(${LOAD_TS} AS TIMESTAMP)"

    def _expr(self, name: str) -> str:
        if name in self.derived:
            return f"({sqlglot.parse_one(self.derived[name], read=READ).sql(READ, identify=True)})"
        return f"s.{q(name)}"

    def _where(self) -> str:
        conds = [f"s.{q(g)} IS NOT NULL" for g in self.grain]
        if self.fact.filter:
            conds.insert(0, f"({sqlglot.parse_one(self.fact.filter, read=READ).sql(READ, identify=True)})")
        inc = self.fact.incremental
        if inc:
            mark = f"(SELECT MAX({q(inc)}) FROM {self.target})"
            conds.append(f"({mark} IS NULL OR s.{q(inc)} > {mark})")
        return " AND ".join(conds)

    def stage_batch(self) -> list[Step]:
        select = (
            f"SELECT DISTINCT {', '.join(f'{self._expr(c)} AS {q(c)}' for c in self.data)} "
            f"FROM {self.src} AS s WHERE {self._where()}"
        )
        grain = ", ".join(q(g) for g in self.grain)
        steps = []
        nodes = Spliced()  # the row hash keeps its per-dialect spelling (not DuckDB text)
        if self.fact_duplicates() == "pick":
            types = {c.name: c.type for c in self.source.columns}
            values = [(exp.column(c, table="d", quoted=True), types.get(c, ir.Type("string"))) for c in self.data]
            rowhash = nodes.add(hashing.hash_key(values, self.settings.hash))
            select = (
                f"SELECT {', '.join(q(c) for c in self.data)} FROM (SELECT d.*, ROW_NUMBER() OVER "
                f"(PARTITION BY {grain} ORDER BY {rowhash}) AS _mc_pick FROM ({select}) AS d) AS p WHERE _mc_pick = 1"
            )
        steps.append(Step("stage", nodes.parse(f"CREATE TEMPORARY TABLE {self.batch} AS {select}"), "batch"))
        if self.fact_duplicates() == "error":
            check = f"SELECT {grain} FROM {self.batch} GROUP BY {grain} HAVING COUNT(*) > 1 ORDER BY {grain} LIMIT 11"
            steps.append(Step("check", parse(check), "conflicts", "different rows with the same grain"))
        return steps

    def fact_duplicates(self) -> str:
        return getattr(self.fact, "duplicates", "error")

    def _resolve(self, alias: str, rows: str) -> tuple[list[str], str]:
        """(key expression per reference, joins) resolving the references of `rows` aliased `alias`.

        Versioned dimensions: with `at t`, the version with the greatest valid_from <= t (the one valid
        then, or the last one before a deletion gap), else the key's first version (its history starts
        later); without `at`, the key's latest version. Not found: the unknown member."""
        keys, joins = [], []
        members = f"({self.unknown}, {lit(hashing.special_key('error', self.settings.hash))})"
        grain = ", ".join(f"x.{q(g)}" for g in self.grain)
        for i, ref in enumerate(self.fact.references):
            dim = self.model.get(ref.dimension)
            r, f = f"_mc_r{i}", f"_mc_f{i}"
            if isinstance(dim, ir.Calendar):
                table = qt(self.settings.schema, dim.name)
                joins.append(f"LEFT JOIN {table} AS {r} ON {r}.{q('date')} = CAST({alias}.{q(ref.columns[0])} AS DATE)")
                keys.append(f"COALESCE({r}.{q('date_key')}, 0)")
                continue
            assert isinstance(dim, ir.Dimension)
            table = qt(self.settings.schema, dim.name)
            sk = q(f"{dim.name}_key")
            pairs = list(zip(dim.key, ref.columns, strict=True))
            key_list = ", ".join(q(k.name) for k in dim.key)
            h = dim.history
            if not dim.versioned:
                match = " AND ".join(f"{r}.{q(k.name)} = {alias}.{q(c)}" for k, c in pairs)
                joins.append(f"LEFT JOIN {table} AS {r} ON {match}")
                keys.append(f"COALESCE({r}.{sk}, {self.unknown})")
                continue
            ranked = (
                f"(SELECT * FROM (SELECT {key_list}, {q(h.valid_from)} AS _mc_vf, {sk} AS _mc_sk, ROW_NUMBER() "
                f"OVER (PARTITION BY {key_list} ORDER BY {q(h.valid_from)} {{order}}) AS _mc_rn FROM {table} "
                f"WHERE {sk} NOT IN {members}) AS x WHERE _mc_rn = 1)"
            )
            fmatch = " AND ".join(f"{f}.{q(k.name)} = {alias}.{q(c)}" for k, c in pairs)
            if ref.at is None:
                joins.append(f"LEFT JOIN {ranked.format(order='DESC')} AS {f} ON {fmatch}")
                keys.append(f"COALESCE({f}._mc_sk, {self.unknown})")
                continue
            t = f"CAST(x.{q(ref.at)} AS TIMESTAMP)"
            match = " AND ".join(f"d.{q(k.name)} = x.{q(c)}" for k, c in pairs)
            best = (
                f"(SELECT * FROM (SELECT {grain}, d.{sk} AS _mc_sk, ROW_NUMBER() OVER (PARTITION BY {grain} "
                f"ORDER BY d.{q(h.valid_from)} DESC) AS _mc_rn FROM {rows} AS x JOIN {table} AS d ON {match} "
                f"AND d.{q(h.valid_from)} <= {t} WHERE d.{sk} NOT IN {members}) AS y WHERE _mc_rn = 1)"
            )
            joins.append(f"LEFT JOIN {best} AS {r} ON {on(self.grain, r, alias)}")
            joins.append(f"LEFT JOIN {ranked.format(order='ASC')} AS {f} ON {fmatch}")
            at = f"CAST({alias}.{q(ref.at)} AS TIMESTAMP)"
            keys.append(f"COALESCE({r}._mc_sk, CASE WHEN {at} < {f}._mc_vf THEN {f}._mc_sk END, {self.unknown})")
        return keys, " ".join(joins)

    def _unknown_of(self, role_key: str) -> str:
        """The unknown member's key for a reference: 0 for a calendar, the zero hash for a dimension."""
        return "0" if self._is_calendar(role_key) else self.unknown

    def stage_changes(self) -> list[Step]:
        lts = self.load_ts
        data = ", ".join(f"b.{q(c)}" for c in self.data)
        keys, joins = self._resolve("b", self.batch)
        named = "".join(f", {k} AS {q(n)}" for k, n in zip(keys, self.role_keys, strict=True))
        resolved = f"res AS (SELECT {data}{named} FROM {self.batch} AS b {joins})"
        cols = [*self.data, *self.role_keys]
        grain_on = on(self.grain, "t", "r")
        out = list(self.cols)
        img = {c: f"r.{q(c)}" for c in cols}
        insert = (
            "SELECT " + ", ".join(
                f"{img.get(c, lts if c == LOADED_AT else 'CAST(NULL AS TIMESTAMP)')} AS {q(c)}" for c in out
            ) + f", 'insert' AS _mc_op FROM res AS r LEFT JOIN {self.target} AS t ON {grain_on} "
            f"WHERE t.{q(self.grain[0])} IS NULL"
        )  # fmt: skip
        selects = [insert.replace(", 'insert' AS _mc_op", ", 'insert' AS _mc_op, 0 AS _mc_rekeyed", 1)]
        upsert = self.fact.load == "upsert"
        rk_img: dict[str, str] = {}
        better = tjoins = ""
        if self.fact.references:
            # Stored rows still pointing at an unknown member are resolved again; only those keys change.
            new, tjoins = self._resolve("t", self.target)
            unknown = {k: self._unknown_of(k) for k in self.role_keys}
            unknown_any = " OR ".join(f"t.{q(k)} = {unknown[k]}" for k in self.role_keys)
            better = " OR ".join(
                f"(t.{q(k)} = {unknown[k]} AND {e} <> {unknown[k]})" for k, e in zip(self.role_keys, new, strict=True)
            )
            rk_img = {
                k: f"CASE WHEN t.{q(k)} = {unknown[k]} THEN {e} ELSE t.{q(k)} END"
                for k, e in zip(self.role_keys, new, strict=True)
            }
        if upsert:
            # A batch row is compared with its stored row as re-keyed first (docs/semantics.md): equal to it,
            # the row is a re-key, not an update; a re-keyed row that also changed counts as both.
            changed = ne_any([(f"r.{q(c)}", rk_img.get(c, f"t.{q(c)}")) for c in cols if c not in self.grain])
            rekeyed = f"CASE WHEN {better} THEN 1 ELSE 0 END" if better else "0"
            selects.append(
                "SELECT " + ", ".join(
                    img.get(c, f"t.{q(LOADED_AT)}" if c == LOADED_AT else lts) for c in out
                ) + f", CASE WHEN {changed} THEN 'update' ELSE 'rekey' END, {rekeyed} "
                f"FROM res AS r JOIN {self.target} AS t ON {grain_on} {tjoins if better else ''}"
                f"WHERE {changed}" + (f" OR ({better})" if better else "")
            )  # fmt: skip
        if self.fact.references:
            in_batch = f"LEFT JOIN res AS r ON {grain_on} " if upsert else ""
            not_in_batch = f"r.{q(self.grain[0])} IS NULL AND " if upsert else ""
            selects.append(
                "SELECT " + ", ".join(
                    rk_img.get(c, lts if c == UPDATED_AT else f"t.{q(c)}") for c in out
                ) + f", 'rekey', 1 FROM {self.target} AS t {tjoins} {in_batch}"
                f"WHERE {not_in_batch}({unknown_any}) AND ({better})"
            )  # fmt: skip
        sql = f"CREATE TEMPORARY TABLE {self.changes} AS WITH {resolved} " + " UNION ALL ".join(selects)
        return [Step("stage", parse(sql), "changes")]

    def _is_calendar(self, role_key: str) -> bool:
        ref = self.fact.references[self.role_keys.index(role_key)]
        return isinstance(self.model.get(ref.dimension), ir.Calendar)

    def apply(self) -> list[Step]:
        upsert = Upsert(self.target, self.changes, tuple(self.grain), tuple(self.cols))
        return [Step("apply", None, "upsert", upsert=upsert)]

    def counts(self) -> Step:
        unknown_any = " OR ".join(f"{q(k)} = {self._unknown_of(k)}" for k in self.role_keys)
        nulls = " OR ".join(f"s.{q(g)} IS NULL" for g in self.grain)
        filt = (
            f"({sqlglot.parse_one(self.fact.filter, read=READ).sql(READ, identify=True)})"
            if self.fact.filter
            else "TRUE"
        )
        sql = (
            f"SELECT (SELECT COUNT(*) FROM {self.changes} WHERE _mc_op = 'insert') AS inserted, "
            f"(SELECT COUNT(*) FROM {self.changes} WHERE _mc_op = 'update') AS updated, "
            f"(SELECT COUNT(*) FROM {self.changes} WHERE _mc_rekeyed = 1) AS rekeyed, "
            f"(SELECT COUNT(*) FROM {self.src} AS s WHERE {filt} AND ({nulls})) AS rejected, "
            f"(SELECT COUNT(*) FROM {self.changes} WHERE _mc_op <> 'rekey' AND ({unknown_any or 'FALSE'})) "
            f"AS unresolved, "
            f"(SELECT COUNT(*) FROM {self.src} AS s WHERE {self._where()}) "
            f"- (SELECT COUNT(*) FROM {self.batch}) AS duplicates"
        )
        if self.fact.load == "append":  # grains already present are skipped, and said so
            sql += (
                f", (SELECT COUNT(*) FROM {self.batch} AS b JOIN {self.target} AS t ON {on(self.grain, 't', 'b')}) "
                "AS skipped"
            )
        return Step("count", parse(sql), "counts")

    def cleanup(self) -> list[Step]:
        return [Step("cleanup", parse(f"DROP TABLE IF EXISTS {t}"), "drop staging") for t in (self.changes, self.batch)]

    def plan(self) -> LoadPlan:
        steps = [*self.cleanup(), *self.stage_batch(), *self.stage_changes(), self.counts(), *self.apply()]
        return LoadPlan(self.fact.name, "upsert", tuple([*steps, *self.cleanup()]))


def plan_fact(fact: ir.Fact, source: ir.Source, model: ir.Model, table: TableSpec) -> LoadPlan:
    return FactLoad(fact, source, model, table).plan()
