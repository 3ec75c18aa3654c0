"""The dependency graph of a model's entities: build order, cycles, and dot / mermaid / json renderings.

An edge `a -> b` means `b` is built from `a` (a source feeds a dimension, a dimension a fact, a hub
its links and satellites, ...). Nodes are entity names and carry `kind`, `index` (declaration
order, which breaks ties so every output is deterministic) and `span`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING

from . import ir
from .ast import NO_SPAN
from .diagnostics import Diagnostic, error

if TYPE_CHECKING:  # networkx takes ~0.2 s to import: only loaded when a graph is built (not by `check`)
    import networkx as nx

FORMATS = ("dot", "mermaid", "json")


def dependencies(entity: ir.Entity) -> tuple[str, ...]:
    """The entities `entity` is built from, without repeats, in the order they are written."""
    deps: list[str] = []
    match entity:
        case ir.Dimension():
            deps = [entity.source]
        case ir.Fact():
            deps = [entity.source, *(r.dimension for r in entity.references)]
        case ir.Hub():
            deps = [m.source for m in entity.sources]
        case ir.Link():
            deps = [entity.source, *(h.hub for h in entity.hubs)]
        case ir.Satellite():
            deps = [entity.source, entity.parent]
        case ir.Pit():
            deps = [entity.hub, *entity.satellites]
        case ir.Bridge():
            deps = [entity.hub, *entity.links]
    return tuple(dict.fromkeys(deps))


def build_graph(model: ir.Model) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph(name=model.name)
    for i, entity in enumerate(model.entities):
        g.add_node(entity.name, kind=entity.kind, index=i, span=entity.span)
    for entity in model.entities:
        for dep in dependencies(entity):
            if dep in g:  # a valid model names only its own entities; do not invent nodes
                g.add_edge(dep, entity.name)
    return g


def _rank(g: nx.DiGraph, node: Hashable) -> tuple[int, str]:
    """Declaration order; nodes of a hand-built graph without `index` come last, by name."""
    return (g.nodes[node].get("index", len(g)), str(node))


def _sorted_edges(g: nx.DiGraph) -> list[tuple[Hashable, Hashable]]:
    return sorted(g.edges, key=lambda e: (_rank(g, e[0]), _rank(g, e[1])))


def order(model: ir.Model | nx.DiGraph) -> list[str]:
    """Entity names in build order; ties go by declaration order. Raises ValueError on a cycle."""
    import networkx as nx

    g = build_graph(model) if isinstance(model, ir.Model) else model
    try:
        return list(nx.lexicographical_topological_sort(g, key=lambda n: _rank(g, n)))
    except nx.NetworkXUnfeasible:
        raise ValueError("; ".join(d.message for d in find_cycles(g))) from None


def cycles(g: nx.DiGraph) -> list[list[Hashable]]:
    """One cycle per strongly connected component, starting at its earliest node: [a, b, c, a]."""
    import networkx as nx

    out = []
    for component in nx.strongly_connected_components(g):
        start = min(component, key=lambda n: _rank(g, n))
        if len(component) > 1 or g.has_edge(start, start):
            out.append(_cycle_through(g, component, start))
    return sorted(out, key=lambda c: _rank(g, c[0]))


def _cycle_through(g: nx.DiGraph, component: set[Hashable], start: Hashable) -> list[Hashable]:
    """The shortest cycle from `start` back to it (breadth first, successors in declaration order)."""
    parent: dict[Hashable, Hashable] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted((s for s in g.successors(node) if s in component), key=lambda n: _rank(g, n)):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if succ not in parent:
                parent[succ] = node
                queue.append(succ)
    raise AssertionError("a strongly connected component always has a cycle")


def find_cycles(model: ir.Model | nx.DiGraph) -> list[Diagnostic]:
    """An E220 error per dependency cycle, naming the whole path (`a -> b -> c -> a`)."""
    if isinstance(model, ir.Model) and _acyclic(model):
        return []  # the usual case, decided without building a networkx graph
    g = build_graph(model) if isinstance(model, ir.Model) else model
    return [
        error(
            "E220",
            "dependency cycle: " + " -> ".join(str(n) for n in path),
            g.nodes[path[0]].get("span", NO_SPAN),
            hint="an entity cannot be built from itself, directly or through other entities",
        )  # fmt: skip
        for path in cycles(g)
    ]


def _acyclic(model: ir.Model) -> bool:
    """Whether the model's dependency graph has no cycle (Kahn's algorithm, pure Python)."""
    names = {e.name for e in model.entities}
    successors: dict[str, list[str]] = {n: [] for n in names}
    indegree = dict.fromkeys(names, 0)
    for entity in model.entities:
        for dep in dependencies(entity):
            if dep in names and entity.name not in successors[dep]:
                successors[dep].append(entity.name)
                indegree[entity.name] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for succ in successors[node]:
            indegree[succ] -= 1
            if indegree[succ] == 0:
                ready.append(succ)
    return seen == len(names)


# ---- renderings -----------------------------------------------------------------------------------

_DOT_SHAPES = {"source": "cylinder", "dimension": "box", "calendar": "box", "fact": "box3d", "hub": "ellipse",
               "link": "hexagon", "satellite": "note", "pit": "component", "bridge": "component"}  # fmt: skip
_MERMAID_SHAPES = {"source": ('[("', '")]'), "dimension": ('["', '"]'), "calendar": ('["', '"]'),
                   "fact": ('[["', '"]]'), "hub": ('(("', '"))'), "link": ('{{"', '"}}'), "satellite": ('[/"', '"/]'),
                   "pit": ('[\\"', '"\\]'), "bridge": ('[\\"', '"\\]')}  # fmt: skip


def _dot_id(name: object) -> str:
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nodes(g: nx.DiGraph) -> list[Hashable]:
    return sorted(g.nodes, key=lambda n: _rank(g, n))


def _dot(g: nx.DiGraph) -> Iterator[str]:
    yield f"digraph {_dot_id(g.graph.get('name', 'model'))} {{"
    yield "  rankdir=LR;"
    for n in _nodes(g):
        kind = g.nodes[n].get("kind", "")
        yield f"  {_dot_id(n)} [shape={_DOT_SHAPES.get(kind, 'box')}, kind={_dot_id(kind)}];"
    for a, b in _sorted_edges(g):
        yield f"  {_dot_id(a)} -> {_dot_id(b)};"
    yield "}"


def _mermaid(g: nx.DiGraph) -> Iterator[str]:
    # Mermaid ids cannot hold dots or spaces: number the nodes and show the name as the label.
    ids = {n: f"n{i}" for i, n in enumerate(_nodes(g))}
    yield "flowchart LR"
    for n, ident in ids.items():
        kind = g.nodes[n].get("kind", "")
        left, right = _MERMAID_SHAPES.get(kind, ('["', '"]'))
        yield f"  {ident}{left}{str(n).replace(chr(34), '#quot;')}{right}"
    for a, b in _sorted_edges(g):
        yield f"  {ids[a]} --> {ids[b]}"


def _json(g: nx.DiGraph) -> str:
    """networkx node-link data (`nx.node_link_graph(data, edges="edges")` reads it back)."""
    data = {
        "directed": True,
        "multigraph": False,
        "graph": {"name": g.graph.get("name")},
        "nodes": [{"id": n, "kind": g.nodes[n].get("kind")} for n in _nodes(g)],
        "edges": [{"source": a, "target": b} for a, b in _sorted_edges(g)],
    }
    return json.dumps(data, indent=2, default=str)


def render(model: ir.Model | nx.DiGraph, format: str) -> str:  # noqa: A002 - the CLI's option name
    """The graph as Graphviz dot, a Mermaid flowchart, or node-link JSON; always ends with a newline."""
    g = build_graph(model) if isinstance(model, ir.Model) else model
    if format == "dot":
        return "\n".join(_dot(g)) + "\n"
    if format == "mermaid":
        return "\n".join(_mermaid(g)) + "\n"
    if format == "json":
        return _json(g) + "\n"
    raise ValueError(f"unknown graph format {format!r}; expected one of {', '.join(FORMATS)}")
