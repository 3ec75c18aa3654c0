"""Helpers for writing load SQL as text in one dialect, then parsing it into sqlglot.

Templates are written in DuckDB's dialect with every identifier quoted by `q`, and
literals made by `lit`, so no name or value from a model can break the SQL; the
text is parsed once into an expression and rendered per dialect from there.
"""

from __future__ import annotations

import functools
import re
import threading
from copy import deepcopy

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

READ = "duckdb"  # the dialect load templates are written in


@functools.lru_cache(maxsize=65536)  # names repeat in every template of an entity, and across entities
def q(name: str) -> str:
    """A quoted identifier in the template dialect: no name can break the SQL."""
    return exp.to_identifier(name, quoted=True).sql(READ)


def qt(schema: str | None, table: str) -> str:
    return f"{q(schema)}.{q(table)}" if schema else q(table)


@functools.lru_cache(maxsize=65536)
def lit(value: str) -> str:
    return exp.Literal.string(value).sql(READ)


def eq_all(cols: list[str], left: str, right: str) -> str:
    """Null-safe equality of `cols` between two aliases (TRUE when there are none)."""
    if not cols:
        return "TRUE"
    return " AND ".join(f"{left}.{q(c)} IS NOT DISTINCT FROM {right}.{q(c)}" for c in cols)


def ne_any(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "FALSE"
    return "(" + " OR ".join(f"{a} IS DISTINCT FROM {b}" for a, b in pairs) + ")"


def on(cols: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(c)} = {right}.{q(c)}" for c in cols)


def _portable(node: exp.Expression) -> exp.Expression:
    # `_MC_ADD_DAYS(d, n)` in a template: sqlglot's DateAdd node, which each dialect spells its own way
    # (DuckDB's `d + INTERVAL (n) DAY` does not transpile when parsed from text).
    if isinstance(node, exp.Anonymous) and node.name.upper() == "_MC_ADD_DAYS":
        date, days = node.expressions
        return exp.DateAdd(this=date, expression=days, unit=exp.var("DAY"))
    if isinstance(node, exp.Anonymous) and node.name.upper() == "_MC_ADD_MICROS":
        ts, micros = node.expressions
        return exp.DateAdd(this=ts, expression=micros, unit=exp.var("MICROSECOND"))
    return node


def _forget_positions(expression: exp.Expression) -> list[exp.Anonymous]:
    """Drop the source positions the parser keeps in each identifier's and literal's `meta` (plans are copied
    per dialect, and copying those dicts was a large part of it; no SQL depends on them). Returns the tree's
    function calls of unknown name: where modelc's placeholders are."""
    calls = []
    for node in expression.walk():
        meta = node._meta
        if meta:
            for key in exp.POSITION_META_KEYS:
                meta.pop(key, None)
            if not meta:
                node._meta = None
        if isinstance(node, exp.Anonymous):
            calls.append(node)
    return calls


def parse(sql: str) -> exp.Expression:
    """A template (DuckDB dialect) as an expression, with modelc's portable functions resolved."""
    return _parse(sql)[0]


def _parse(sql: str) -> tuple[exp.Expression, list[exp.Anonymous]]:
    """The template's tree, and its function calls of unknown name (see `_forget_positions`).

    Most templates differ from one entity to the next only in their quoted names: each *shape* (the text with
    those names cut out) is parsed once, and each template of that shape is a copy with its own names."""
    names: list[str] = []

    def cut(m: re.Match) -> str:
        name = m.group(1)
        # A name the parser knows, or one before `(` (it can be read as a known function) other than an INSERT's
        # table, stays in the shape: a slot holds a name the parser only stores.
        if name.upper() in _words() or (m.group(2) and not _INTO.search(sql, max(0, m.start() - 300), m.start())):
            return m.group(0)
        names.append(name)
        return f'"{_SLOT}{len(names) - 1}"' + (m.group(2) or "")

    shape = _NAME.sub(cut, sql) if _SLOT not in sql else sql
    if not names:
        return _parse_text(sql)
    template = _shapes.get(shape, False)
    if template is False:
        return _learn(shape, sql, names)
    if template is None:  # a shape whose names are not only names (see `_learn`)
        return _parse_text(sql)
    return _fill(template, names)


def _parse_text(sql: str) -> tuple[exp.Expression, list[exp.Anonymous]]:
    expression = sqlglot.parse_one(sql, read=READ)
    calls = _forget_positions(expression)
    if "_MC_ADD_" in sql.upper():  # the tree is new: rewrite it in place (`transform` copies by default)
        expression = expression.transform(_portable, copy=False)
    return expression, calls


# A shape's names: quoted identifiers of plain characters (see `cut` in `_parse` for which).
_NAME = re.compile(r'(?<!")"([A-Za-z_][A-Za-z0-9_]*)"(?!")(\s*\()?')  # not part of a name with `""` in it
_INTO = re.compile(r'\bINTO\s+(?:"[A-Za-z0-9_]*"\.)?\Z')
_SLOT = "\x01"  # slot names in a shape's text: `"\x01<n>"`; a template with this character is not cut
_SHAPES_MAX = 4096
_shapes: dict[str, exp.Expression | None] = {}
_shapes_lock = threading.Lock()


@functools.cache
def _words() -> frozenset[str]:
    """Every keyword, function and other name the template dialect's tokenizer and parser look up."""
    d = Dialect.get_or_raise(READ)
    words = {k.upper() for k in d.tokenizer_class.KEYWORDS}
    for attr in dir(d.parser_class):
        table = getattr(d.parser_class, attr, None)
        if isinstance(table, dict) and all(isinstance(k, str) for k in table):
            words.update(k.upper() for k in table)
    return frozenset(words | {w for k in words for w in k.split()})


def _learn(shape: str, sql: str, names: list[str]) -> tuple[exp.Expression, list[exp.Anonymous]]:
    """Parse a new shape and keep its tree, or keep None (parse each template of the shape from its text) unless
    its slots are names only: the shape filled with this template's names is the tree parsed from its text, node
    for node. Returns that tree (`_parse_text` of the template)."""
    template = _parse_text(shape)[0]
    parsed = _parse_text(sql)
    filled, slots, _ = _copy_filled(template, names)
    kept = template if slots == len(names) and _same(filled, parsed[0]) else None
    with _shapes_lock:
        if len(_shapes) >= _SHAPES_MAX:
            _shapes.pop(next(iter(_shapes)))
        _shapes[shape] = kept
    return parsed


def _fill(template: exp.Expression, names: list[str]) -> tuple[exp.Expression, list[exp.Anonymous]]:
    expression, _, calls = _copy_filled(template, names)
    return expression, calls


def _copy_filled(template: exp.Expression, names: list[str]) -> tuple[exp.Expression, int, list[exp.Anonymous]]:
    """A copy of a shape's tree with `names` in its slots, how many slots it filled, and its function calls of
    unknown name: `template.copy()` and a walk over the copy, in one pass."""
    slots = 0
    calls = []
    root = node_copy(template)
    stack = [(template, root)]
    while stack:
        node, new = stack.pop()
        args = new.args
        for key, vs in node.args.items():
            if isinstance(vs, exp.Expr):
                args[key] = child = node_copy(vs, new, key)
                stack.append((vs, child))
            elif type(vs) is list:
                args[key] = copies = []
                for i, v in enumerate(vs):
                    if isinstance(v, exp.Expr):
                        copies.append(child := node_copy(v, new, key, i))
                        stack.append((v, child))
                    else:
                        copies.append(v)
            else:
                args[key] = vs
        if type(new) is exp.Identifier:
            text = new.this
            if isinstance(text, str) and text.startswith(_SLOT) and text[1:].isdigit() and int(text[1:]) < len(names):
                args["this"] = names[int(text[1:])]
                slots += 1
        elif isinstance(new, exp.Anonymous):
            calls.append(new)
    return root, slots, calls


def node_copy(
    node: exp.Expression, parent: exp.Expression | None = None, key: str | None = None, index: int | None = None
) -> exp.Expression:
    """A copy of `node` without its arguments, as a child of `parent` (each node `Expression.copy` makes)."""
    new = node.__class__.__new__(node.__class__)
    new.args = {}
    new.parent, new.arg_key, new.index = parent, key, index
    new.comments = deepcopy(node.comments) if node.comments is not None else None
    new._type = deepcopy(node._type) if node._type is not None else None
    new._meta = deepcopy(node._meta) if node._meta is not None else None
    new._hash = node._hash
    return new


def _same(a: exp.Expression, b: exp.Expression) -> bool:
    """Whether two trees are equal node for node: types, arguments, comments and meta."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y) or x.comments != y.comments or x._meta != y._meta or x.args.keys() != y.args.keys():
            return False
        for key, u in x.args.items():
            v = y.args[key]
            us, vs = (u, v) if type(u) is list and type(v) is list else ([u], [v])
            if len(us) != len(vs):
                return False
            for i, j in zip(us, vs, strict=True):
                if isinstance(i, exp.Expr) and isinstance(j, exp.Expr):
                    stack.append((i, j))
                elif isinstance(i, exp.Expr) or isinstance(j, exp.Expr) or type(i) is not type(j) or i != j:
                    return False
    return True


class Spliced:
    """sqlglot expressions kept aside while a template is written as text, put back after parsing.

    `add(node)` returns a placeholder call (`_MC_NODE_<n>()`) to write into the template; `parse(sql)`
    parses the template (like `parse`) and puts a copy of each node in place of its placeholder. For
    nodes whose meaning does not survive a round trip through DuckDB text: the hash expressions of
    `modelc.hashing`, which each dialect spells its own way when rendering (as the vault loads do).
    """

    PREFIX = "_MC_NODE_"

    def __init__(self) -> None:
        self.nodes: list[exp.Expression] = []

    def add(self, node: exp.Expression) -> str:
        self.nodes.append(node)
        return f"{self.PREFIX}{len(self.nodes) - 1}()"

    def _node(self, node: exp.Expression) -> exp.Expression | None:
        if isinstance(node, exp.Anonymous) and node.name.upper().startswith(self.PREFIX):
            return self.nodes[int(node.name[len(self.PREFIX) :])].copy()
        return None

    def splice(self, expression: exp.Expression) -> exp.Expression:
        def put(node: exp.Expression) -> exp.Expression:
            spliced = self._node(node)
            return node if spliced is None else spliced

        return expression.transform(put)

    def parse(self, sql: str) -> exp.Expression:
        expression, calls = _parse(sql)
        # What `splice` does, on the new tree in place: placeholders have no arguments, and the nodes put in
        # are not searched, so replacing each placeholder call found while parsing is the same.
        for call in calls:
            node = self._node(call)
            if node is not None:
                if call is expression:
                    return node
                call.replace(node)
        return expression
