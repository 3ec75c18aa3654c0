"""A target engine as a declarative class of capability flags, like sqlglot's own dialects.

The flags say what the engine can do; the load planner chooses its strategies from them
(MERGE or UPDATE ... FROM + INSERT, how to hash, ...). What differs in DDL is a thin
override in the dialect's module: types by a mapping table, physical options by
`table_properties`. Everything is built as sqlglot expressions and rendered by sqlglot.
docs/dialects.md documents every flag and table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar, Literal

import sqlglot
from sqlglot import exp

from .. import hashing, ir
from ..diagnostics import Diagnostic, error, warning
from ..plan import ColumnSpec, TableSpec
from . import identifiers

PrimaryKeyMode = Literal["enforced", "informational", "none"]
HashKey = tuple[ir.HashAlgorithm, ir.HashOutput]
# Physical options a dialect may understand (ir.Physical fields; partition_transform goes with partition_by).
PHYSICAL_OPTIONS = ("partition_by", "cluster_by", "order_by", "sortkey", "distkey", "diststyle", "engine")
_VALUE = "__value__"  # stands for the hashed value in `hash_functions` templates

# The capability flags and what they mean (the manifest and docs/dialects.md list them).
CAPABILITIES = (
    ("has_merge", "MERGE statement"),
    ("merge_when_conditions", "`WHEN MATCHED AND ...`, several WHEN MATCHED"),
    ("merge_not_matched_by_source", "`WHEN NOT MATCHED BY SOURCE`"),
    ("merge_target_alias", "`MERGE INTO t AS d`"),
    ("merge_source_subquery", "`USING (SELECT ...)`"),
    ("has_update_from", "`UPDATE ... FROM`"),
    ("has_delete_using", "`DELETE ... USING`"),
    ("has_insert_on_conflict", "`INSERT ... ON CONFLICT`"),
    ("has_identity_columns", "identity / autoincrement columns"),
    ("transactional_ddl", "DDL inside a transaction"),
    ("temporary_tables", "temporary tables every statement of a load can read (else: staging tables)"),
    ("primary_key", "primary keys"),
    ("supports_schemas", "schemas (else: a database)"),
    ("max_identifier_bytes", "longest name (bytes)"),
    ("max_decimal_precision", "largest decimal precision"),
)

# Diagnostic codes of this stage (docs/dialects.md).
W_IGNORED, W_NULLABLE_KEY, W_OPTION = "W401", "W402", "W403"
E_IDENTIFIER, E_OPTION, E_TYPE = "E403", "E404", "E405"


@functools.lru_cache(maxsize=512)
def _parse_type(text: str, dialect: str) -> exp.DataType:
    return exp.DataType.build(text, dialect=dialect)


@functools.lru_cache(maxsize=64)
def _parse_template(text: str, dialect: str) -> exp.Expression:
    return sqlglot.parse_one(text, read=dialect)


class Dialect:
    name: ClassVar[str]
    sqlglot_name: ClassVar[str]

    # ---- loads: the next stage picks its strategy from these ----
    has_merge: ClassVar[bool] = True
    merge_when_conditions: ClassVar[bool] = True  # WHEN MATCHED AND <cond>, several WHEN MATCHED
    merge_not_matched_by_source: ClassVar[bool] = False
    merge_target_alias: ClassVar[bool] = True  # MERGE INTO t AS d
    merge_source_subquery: ClassVar[bool] = True  # USING (SELECT ...); else a table only
    has_update_from: ClassVar[bool] = True
    has_delete_using: ClassVar[bool] = True
    has_insert_on_conflict: ClassVar[bool] = False
    has_identity_columns: ClassVar[bool] = False
    transactional_ddl: ClassVar[bool] = False  # DDL can be rolled back with the loads
    # Temporary tables that every statement of a load can read. Without them (ClickHouse: mutations run
    # outside the session and do not see its temporary tables) a load's staging tables are ordinary tables
    # in the model's schema (`persistent_staging`).
    temporary_tables: ClassVar[bool] = True
    # Engines without WEEKOFYEAR/DAY/MONTH/YEAR functions: date parts are written EXTRACT(<part> FROM d), the
    # ISO week under this name (PostgreSQL and Redshift: WEEK; BigQuery: ISOWEEK). None: sqlglot's functions.
    extract_iso_week: ClassVar[str | None] = None
    # SQL (in this dialect) of each hash; `__value__` stands for the string to hash.
    hash_functions: ClassVar[Mapping[HashKey, str]] = {}
    # The other parts of the hashing SQL (modelc.hashing.HELPERS) this dialect spells itself, `__value__` their
    # argument: "hex" (bytes -> lower-case hex text), "unhex" (hex text -> bytes), "utc" (a timestamptz as
    # its UTC timestamp). A part not listed keeps sqlglot's own node, right where sqlglot is.
    hash_helpers: ClassVar[Mapping[str, str]] = {}

    # ---- DDL ----
    primary_key: ClassVar[PrimaryKeyMode] = "informational"
    supports_schemas: ClassVar[bool] = True  # else the model's schema is a database
    physical_options: ClassVar[frozenset[str]] = frozenset()
    max_identifier_bytes: ClassVar[int | None] = None
    max_decimal_precision: ClassVar[int] = 38
    forbidden_identifier_chars: ClassVar[str] = ""
    # Portable type -> this dialect's type; `{n}` is a string length, `{p}`, `{s}` decimal precision/scale.
    types: ClassVar[Mapping[str, str]] = {}

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"

    # ---- names ----

    @functools.cached_property
    def _fold_upper(self) -> bool:
        return identifiers.folds_upper(self.sqlglot_name)

    def identifier(self, name: str) -> exp.Identifier:
        return identifiers.make_identifier(name, self._fold_upper)

    def table(self, schema: str, name: str) -> exp.Table:
        return exp.Table(this=self.identifier(name), db=self.identifier(schema))

    def column(self, name: str) -> exp.Column:
        return exp.Column(this=self.identifier(name))

    def identifier_problem(self, name: str) -> str | None:
        return identifiers.problem(name, self.max_identifier_bytes, self.forbidden_identifier_chars)

    # ---- types ----

    def type_sql(self, t: ir.Type) -> str:
        """The mapping table applied to one portable type (text in this dialect)."""
        if t.name == "decimal":
            p, s = t.precision or 38, t.scale if t.scale is not None else 9
            return self.types["decimal(p,s)"].format(p=p, s=s)
        if t.name == "string" and t.length is not None:
            return self.types["string(n)"].format(n=t.length)
        return self.types[t.name]

    def data_type(self, t: ir.Type, nullable: bool = True) -> exp.DataType:
        return _parse_type(self.type_sql(t), self.sqlglot_name).copy()

    # ---- hashing (used by the loads) ----

    def hash_expression(
        self, value: exp.Expression, algorithm: ir.HashAlgorithm, output: ir.HashOutput
    ) -> exp.Expression:
        return self._fill(self.hash_functions[(algorithm, output)], value)

    def _fill(self, template_sql: str, value: exp.Expression) -> exp.Expression:
        template = _parse_template(template_sql, self.sqlglot_name).copy()

        def put(node: exp.Expression) -> exp.Expression:
            return value.copy() if isinstance(node, exp.Column) and node.name == _VALUE else node

        return template.transform(put, copy=False)  # the template is a copy already

    def hashing_part(self, node: exp.Expression) -> exp.Expression:
        """`node` in this dialect's words when it is a dialect part of modelc.hashing (a digest, bytes <-> hex,
        timestamptz -> UTC), else `node` itself. Digests go through `hash_expression`, the rest through
        `hash_helpers`."""
        part = hashing.dialect_part(node)
        if part is None:
            return node
        what, value = part
        if what[0] == "digest":
            return self.hash_expression(value, what[1], what[2])  # type: ignore[arg-type]
        template = self.hash_helpers.get(what[0])
        return node if template is None else self._fill(template, value)

    def _spells(self, node: exp.Expression) -> bool:
        """Whether `hashing_part(node)` is not `node` itself."""
        part = hashing.dialect_part(node)
        return part is not None and (part[0][0] == "digest" or part[0][0] in self.hash_helpers)

    def persistent_staging(
        self, expression: exp.Expression, staged: set[str], schema: str, copy: bool = True
    ) -> exp.Expression:
        """`expression` with the load's temporary tables (`staged`) as ordinary tables of `schema`: for
        dialects without `temporary_tables` (overridden there). `copy=False` may change `expression` itself."""
        return expression

    # ---- DDL ----

    def render(self, expression: exp.Expression, pretty: bool = True) -> str:
        """SQL of `expression` in this dialect, every identifier written by the quoting rule: DDL and loads
        agree on names whatever quoting their expressions were built with (on Snowflake it matters)."""
        # the named tree is a copy of our own: the generator need not copy it again
        return self.with_names(expression).sql(dialect=self.sqlglot_name, pretty=pretty, copy=False)

    def with_names(self, expression: exp.Expression, copy: bool = True) -> exp.Expression:
        """A copy of `expression` (`expression` itself, changed, when `copy` is False) whose identifiers follow
        this dialect's quoting rule, and whose hashing parts are written the dialect's way (`hashing_part`)."""
        if copy:
            expression = expression.copy()
        return self._name(expression)

    def _name(self, expression: exp.Expression) -> exp.Expression:
        """In place and in one walk, what two transforms in turn did: `extract_parts` (dialects with
        `extract_iso_week`), then `rewrite`, which gives every identifier the spelling of `self.identifier` and
        replaces hashing parts by `with_names(hashing_part(node))`. Each node is visited once with a flag: whether
        `extract_parts` still applies there (`transform` does not visit the children of a node it replaced)."""
        fold_upper, iso_week = self._fold_upper, self.extract_iso_week
        stack = [(expression, iso_week is not None)]
        while stack:
            node, parts = stack.pop()
            if parts:
                extracted = extract_parts(node, iso_week)  # type: ignore[arg-type]
                if extracted is not node:
                    expression = replace_node(extracted, node, expression)
                    node, parts = extracted, False
            if type(node) is exp.Identifier:
                # A parsed ClickHouse ENGINE is an Identifier too, but a keyword-like name, not a column or table.
                if not isinstance(node.parent, exp.EngineProperty):
                    _respell(node, *identifiers.spelling(node.name, fold_upper))
                continue  # no child nodes
            if node._meta and self._spells(node):
                if parts:  # its argument as `extract_parts` had left it before `rewrite` ran
                    node.transform(lambda n: extract_parts(n, iso_week), copy=False)  # type: ignore[arg-type]
                # `spelled` is a new tree (`_fill`) whose nodes the loop does not visit: name (and spell) them.
                spelled = self.with_names(self.hashing_part(node), copy=False)
                if node is expression:
                    return spelled
                node.replace(spelled)
                continue
            for value in node.args.values():
                if type(value) is list:
                    stack.extend((v, parts) for v in value if isinstance(v, exp.Expr))
                elif isinstance(value, exp.Expr):
                    stack.append((value, parts))
        return expression

    def create_schema(self, schema: str) -> exp.Create:
        return exp.Create(this=exp.Table(this=self.identifier(schema)), kind="SCHEMA", exists=True)

    def create_table(self, spec: TableSpec) -> tuple[exp.Create, list[Diagnostic]]:
        diags = self.check_table(spec)
        diags += self.ignored_options(spec)
        properties = self.table_properties(spec, diags)
        not_null = self.not_null_columns(spec, diags)
        body: list[exp.Expression] = [self.column_def(c, c.name in not_null) for c in spec.columns]
        pk = self.primary_key_constraint(spec)
        if pk is not None:
            body.append(pk)
        create = exp.Create(
            this=exp.Schema(this=self.table(spec.schema, spec.name), expressions=body),
            kind="TABLE",
            exists=True,
            properties=exp.Properties(expressions=properties) if properties else None,
        )
        return create, diags

    def not_null_columns(self, spec: TableSpec, diags: list[Diagnostic]) -> set[str]:
        return {c.name for c in spec.columns if not c.nullable}

    def column_type(self, column: ColumnSpec, nullable: bool = True) -> exp.DataType:
        """The stored type of a planned column (a dialect may look at more than its portable type)."""
        return self.data_type(column.type, nullable=nullable)

    def column_def(self, column: ColumnSpec, not_null: bool) -> exp.ColumnDef:
        constraints = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if not_null else []
        return exp.ColumnDef(
            this=self.identifier(column.name),
            kind=self.column_type(column, nullable=not not_null),
            constraints=constraints or None,
        )

    def primary_key_constraint(self, spec: TableSpec) -> exp.PrimaryKey | None:
        if self.primary_key == "none" or not spec.primary_key:
            return None
        return exp.PrimaryKey(expressions=[self.identifier(c) for c in spec.primary_key])

    def table_properties(self, spec: TableSpec, diags: list[Diagnostic]) -> list[exp.Expression]:
        """Physical options this dialect understands, as sqlglot properties (overridden per dialect)."""
        return []

    def ignored_options(self, spec: TableSpec) -> list[Diagnostic]:
        ignored = [o for o in PHYSICAL_OPTIONS if getattr(spec.physical, o) and o not in self.physical_options]
        if not ignored:
            return []
        from . import all_dialects  # the registry imports this module

        quoted = [f"`{o.replace('_', ' ')}`" for o in ignored]
        hint = "; ".join(
            f"{q} is understood by {_and([d.name for d in all_dialects() if o in d.physical_options]) or 'none'}"
            for o, q in zip(ignored, quoted, strict=True)
        )
        verb = "mean" if len(ignored) > 1 else "means"
        message = f"{_and(quoted)} on {spec.kind} `{spec.entity}` {verb} nothing on {self.name}; ignored"
        return [warning(W_IGNORED, message, spec.span, hint=hint)]

    def check_table(self, spec: TableSpec) -> list[Diagnostic]:
        """Names this dialect cannot write and types it cannot hold: errors, never invalid SQL."""
        out = []
        for what, name in [("table", spec.name)] + [("column", c.name) for c in spec.columns]:
            problem = self.name_problem(what, name, spec.span)
            if problem:
                out.append(problem)
        for c in spec.columns:
            if c.type.name == "decimal" and (c.type.precision or 0) > self.max_decimal_precision:
                limit = self.max_decimal_precision
                message = f"column `{c.name}` of `{spec.entity}` is {c.type}; {self.name} allows {limit} digits at most"
                out.append(error(E_TYPE, message, spec.span))
        return out

    def name_problem(self, what: str, name: str, span) -> Diagnostic | None:
        why = self.identifier_problem(name)
        if why is None:
            return None
        shown = f"`{name}`" if name.isprintable() else repr(name)
        return error(E_IDENTIFIER, f"{what} name {shown} cannot be used on {self.name}: it {why}", span)

    def capabilities(self) -> dict[str, object]:
        """The flags, for the manifest and the docs."""
        return {flag: getattr(self, flag) for flag, _ in CAPABILITIES} | {
            "physical_options": sorted(self.physical_options)
        }


def replace_node(new: exp.Expression, node: exp.Expression, root: exp.Expression) -> exp.Expression:
    """Put `new` in the place of `node` in the tree `root`; returns the root (`new` when `node` was the root)."""
    if node is root:
        return new
    node.replace(new)
    return root


def _respell(node: exp.Identifier, text: str, quoted: bool) -> None:
    """Make `node` what `exp.Identifier(this=text, quoted=quoted)` in its place would be, without building one."""
    node.args = {"this": text, "quoted": quoted}
    node.comments = node._type = node._meta = None
    while node is not None and node._hash is not None:  # cached hashes of the node and its ancestors are stale
        node._hash = None
        node = node.parent


def _and(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def extract_parts(node: exp.Expression, iso_week: str = "WEEK") -> exp.Expression:
    """Date parts as EXTRACT, for engines without WEEKOFYEAR/DAY/MONTH/YEAR functions. `iso_week` is the
    engine's name of the ISO week (PostgreSQL and Redshift: WEEK; BigQuery: ISOWEEK)."""
    parts = {exp.WeekOfYear: iso_week, exp.Day: "DAY", exp.Month: "MONTH", exp.Year: "YEAR"}
    for kind, unit in parts.items():
        if type(node) is kind:
            return exp.Extract(this=exp.var(unit), expression=node.this)
    return node


def temporal_unit(transform: ir.PartitionTransform | None) -> str:
    """The truncation unit of a partition transform; no transform on a time column means by day."""
    return (transform or "day").upper()


def bad_option(spec: TableSpec, message: str, hint: str | None = None) -> Diagnostic:
    return warning(W_OPTION, message, spec.span, hint=hint)
