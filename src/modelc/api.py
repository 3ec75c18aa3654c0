"""The Python API: `modelc.load` a model, `modelc.compile` it for a dialect (docs/api.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from . import __version__, dialects, ir, plan
from .ast import NO_SPAN
from .diagnostics import Diagnostic, has_errors
from .memo import PerModel

if TYPE_CHECKING:
    from .loader import LoadResult

StatementKind = Literal["ddl", "load", "test"]
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement; `entity` is None for model-wide statements (the schema)."""

    entity: str | None
    kind: StatementKind
    sql: str
    expression: exp.Expression = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CompileResult:
    model: ir.Model
    dialect: dialects.Dialect
    plan: plan.ModelPlan
    statements: tuple[Statement, ...]  # graph order: schema, then each entity's ddl, loads, tests
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def ddl(self) -> tuple[Statement, ...]:
        """The statements that create schemas and tables (re-runnable)."""
        return tuple(s for s in self.statements if s.kind == "ddl")

    def for_entity(self, entity: str | None, kind: StatementKind | None = None) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.entity == entity and (kind is None or s.kind == kind))

    def groups(self) -> Iterator[tuple[str | None, tuple[Statement, ...]]]:
        """Statements grouped by entity, model-wide first, then in graph order."""
        yield None, self.for_entity(None)
        for entity in self.plan.order:
            yield entity, self.for_entity(entity)

    def sql(self) -> str:
        """The whole script: statements separated by `;` and a blank line."""
        return "".join(s.sql + ";\n\n" for s in self.statements).rstrip("\n") + "\n"

    def manifest(self) -> dict:
        """Model, dialect, entities (kind, columns with types and lineage) and statements, as JSON data."""
        d = self.dialect
        entities = []
        for t in self.plan.tables:
            entities.append(
                {
                    "name": t.entity,
                    "kind": t.kind,
                    "table": t.qualified,
                    "primary_key": list(t.primary_key),
                    "columns": [
                        {
                            "name": c.name,
                            "type": str(c.type),
                            "sql_type": d.render(d.column_type(c, c.nullable), pretty=False),
                            "nullable": c.nullable,
                            "lineage": list(c.lineage),
                        }
                        for c in t.columns
                    ],
                }
            )
        lineage = [
            {"from": src, "to": f"{t.qualified}.{c.name}"}
            for t in self.plan.tables
            for c in t.columns
            for src in c.lineage
        ]
        return {
            "manifest_version": MANIFEST_VERSION,
            "modelc_version": __version__,
            "model": self.model.name,
            "dialect": d.name,
            "schema": self.model.settings.schema,
            "capabilities": d.capabilities(),
            "order": list(self.plan.order),
            "entities": entities,
            "lineage": lineage,
            "statements": [{"entity": s.entity, "kind": s.kind, "sql": s.sql} for s in self.statements],
            "diagnostics": [
                {"code": g.code, "severity": str(g.severity), "message": g.message, "at": str(g.span)}
                for g in self.diagnostics
            ],
        }


def load(path_or_text: str | os.PathLike[str]) -> LoadResult:
    """Load a model from a file (an existing path, or any name ending in `.dm`) or from its text."""
    from . import loader

    if isinstance(path_or_text, os.PathLike):
        return loader.load_file(os.fspath(path_or_text))
    text = str(path_or_text)
    if "\n" not in text and (text.endswith(".dm") or _is_file(text)):
        return loader.load_file(text)
    return loader.load_text(text, "<text>")


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def compile(model: ir.Model | LoadResult, dialect: str | dialects.Dialect, loads: bool = True) -> CompileResult:
    """Compile `model` for `dialect`: its DDL, then every entity's load statements."""
    if not isinstance(model, ir.Model):
        if getattr(model, "model", None) is None:
            raise ValueError("the model did not load; see its diagnostics")
        model = model.model
    d = dialects.get(dialect)
    from .parser import fewer_collections

    # compiling allocates millions of short-lived, cyclic sqlglot nodes: collecting less often cuts
    # its CPU time by about a quarter (bench/results.md) without raising peak memory
    with fewer_collections():
        return _compile(model, d, loads)


def _compile(model: ir.Model, d: dialects.Dialect, loads: bool) -> CompileResult:
    p = plan.build(model)  # cached per model: one plan, rendered for every dialect
    diags: list[Diagnostic] = list(p.diagnostics)
    schema_problem = d.name_problem(
        "schema", model.settings.schema, model.entities[0].span if model.entities else NO_SPAN
    )
    if schema_problem:
        diags.append(schema_problem)
    statements = [_statement(d, None, d.create_schema(model.settings.schema))]
    for table in p.tables:
        create, found = d.create_table(table)
        diags += found
        statements.append(_statement(d, table.entity, create))
    if loads and not has_errors(diags):
        statements += _loads(model, d)
    diags.sort(key=Diagnostic.sort_key)
    return CompileResult(model, d, p, tuple(statements), tuple(diags))


def _statement(d: dialects.Dialect, entity: str | None, expression: exp.Expression) -> Statement:
    return Statement(entity, "ddl", d.render(expression), expression)


def _loads(model: ir.Model, d: dialects.Dialect) -> list[Statement]:
    """Every entity's load, in graph order, as this dialect's statements (docs/semantics.md).

    The load timestamp is the statement's CURRENT_TIMESTAMP; `check` statements return the rows
    that must abort the load (a runner rolls back when they return any), `count` ones the counters.
    """
    from .loads.strategy import render_plan

    out = []
    for name, load_plan in _load_plans(model):
        for r in render_plan(load_plan, d):
            out.append(Statement(name, "load", r.sql, r.expression))
    return out


# one model for several dialects; plans are large, and the language server makes many models
_load_plans_kept: PerModel[list] = PerModel(2)


def _load_plans(model: ir.Model) -> list:
    """(entity, load plan) in graph order; built once per model object and rendered for every dialect
    (plans are dialect-neutral and rendering copies them), like `plan.build`."""
    from .loads import plan_entity

    return _load_plans_kept.get(
        model, lambda: [(name, p) for name in plan.build(model).order if (p := plan_entity(model, name)) is not None]
    )
