"""The entity graph: edges per kind, build order, cycles, and the three renderings."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from modelc import ir
from modelc.ast import Span
from modelc.graph import build_graph, cycles, dependencies, find_cycles, order, render
from modelc.loader import load_text

MODEL = """\
model g

source crm.customers {
  id int
  name string
  ts timestamp
}

source shop.orders {
  order_id int
  customer_id int
  amount double
  ts timestamp
}

fact orders from shop.orders {
  grain order_id
  customer -> customer(customer_id)
  day -> date(ts)
  measure amount
}

dimension customer from crm.customers {
  key id
  scd1 name
}

dimension date calendar 2020-01-01 .. 2021-01-01

hub customer_hub from crm.customers, shop.orders(customer_id) {
  key id
}

hub order_hub from shop.orders {
  key order_id
}

link customer_order from shop.orders {
  hubs customer_hub(customer_id), order_hub(order_id)
}

satellite customer_details of customer_hub from crm.customers {
  payload name
}

satellite order_eff of customer_order from shop.orders {
  effectivity driving order_hub
}

pit customer_pit of customer_hub {
  satellites customer_details
}

bridge customer_bridge of customer_hub {
  links customer_order
}
"""


@pytest.fixture(scope="module")
def model() -> ir.Model:
    result = load_text(MODEL, "g.dm")
    assert result.ok, result.diagnostics
    return result.model


def test_nodes_carry_kinds(model):
    g = build_graph(model)
    assert g.graph["name"] == "g"
    assert {n: g.nodes[n]["kind"] for n in g} == {e.name: e.kind for e in model.entities}
    assert [g.nodes[n]["index"] for n in ("crm.customers", "orders", "customer_bridge")] == [0, 2, 11]


def test_edges_per_kind(model):
    g = build_graph(model)
    into = {n: sorted(g.predecessors(n)) for n in g}
    assert into == {
        "crm.customers": [],
        "shop.orders": [],
        "date": [],
        "customer": ["crm.customers"],  # source -> dimension
        "orders": ["customer", "date", "shop.orders"],  # source and dimensions -> fact
        "customer_hub": ["crm.customers", "shop.orders"],  # every source of a hub
        "order_hub": ["shop.orders"],
        "customer_order": ["customer_hub", "order_hub", "shop.orders"],  # hubs -> link
        "customer_details": ["crm.customers", "customer_hub"],  # hub -> satellite
        "order_eff": ["customer_order", "shop.orders"],  # link -> satellite of a link
        "customer_pit": ["customer_details", "customer_hub"],  # hub and satellites -> PIT
        "customer_bridge": ["customer_hub", "customer_order"],  # hub and links -> bridge
    }


def test_dependencies_have_no_repeats(model):
    assert dependencies(model.get("crm.customers")) == ()
    assert dependencies(model.get("orders")) == ("shop.orders", "customer", "date")


def test_order_is_topological_with_declaration_order_ties(model):
    names = order(model)
    assert names == [
        "crm.customers", "shop.orders", "customer", "date", "orders", "customer_hub", "order_hub",
        "customer_order", "customer_details", "order_eff", "customer_pit", "customer_bridge",
    ]  # fmt: skip
    g = build_graph(model)
    position = {n: i for i, n in enumerate(names)}
    assert all(position[a] < position[b] for a, b in g.edges)


def test_a_valid_model_has_no_cycles(model):
    assert find_cycles(model) == []


def hand_built(edges: list[tuple[str, str]], names: list[str]) -> nx.DiGraph:
    g = nx.DiGraph(name="hand")
    for i, n in enumerate(names):
        g.add_node(n, kind="fact", index=i, span=Span("h.dm", i + 1, 1, i + 1, 2))
    g.add_edges_from(edges)
    return g


def test_cycle_message_names_the_whole_path():
    g = hand_built([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e")], ["d", "c", "b", "a", "e"])
    assert cycles(g) == [["c", "a", "b", "c"], ["e", "e"]]  # each starts at its earliest-declared node
    diags = find_cycles(g)
    assert [(d.code, d.message, d.span.line) for d in diags] == [
        ("E220", "dependency cycle: c -> a -> b -> c", 2),
        ("E220", "dependency cycle: e -> e", 5),
    ]
    assert all(d.is_error and d.hint for d in diags)
    with pytest.raises(ValueError, match=r"c -> a -> b -> c"):
        order(g)


def test_cycle_reports_the_shortest_loop_through_its_start():
    g = hand_built([("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("b", "a")], ["a", "b", "c", "d"])
    assert cycles(g) == [["a", "b", "a"]]


def test_acyclic_hand_built_graph():
    g = hand_built([("a", "b"), ("a", "c")], ["c", "b", "a"])
    assert cycles(g) == [] and order(g) == ["a", "c", "b"]


def test_render_dot(model):
    out = render(model, "dot")
    lines = out.splitlines()
    assert lines[0] == 'digraph "g" {' and lines[-1] == "}"
    assert '  "crm.customers" [shape=cylinder, kind="source"];' in lines
    assert '  "orders" [shape=box3d, kind="fact"];' in lines
    assert '  "customer_hub" -> "customer_order";' in lines
    assert out.count(" -> ") == build_graph(model).number_of_edges()
    assert render(model, "dot") == out  # deterministic


def test_render_mermaid(model):
    out = render(model, "mermaid")
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  n0[("crm.customers")]' in lines  # ids are numbers: names may hold dots
    assert '  n5(("customer_hub"))' in lines
    assert "  n0 --> n3" in lines  # crm.customers -> customer
    assert sum("-->" in ln for ln in lines) == build_graph(model).number_of_edges()


def test_render_json_is_node_link_data(model):
    data = json.loads(render(model, "json"))
    assert data["graph"] == {"name": "g"} and data["directed"] is True
    assert data["nodes"][0] == {"id": "crm.customers", "kind": "source"}
    assert [n["id"] for n in data["nodes"]] == [e.name for e in model.entities]
    back = nx.node_link_graph(data, edges="edges")
    g = build_graph(model)
    assert set(back.edges) == set(g.edges)
    assert {n: back.nodes[n]["kind"] for n in back} == {n: g.nodes[n]["kind"] for n in g}
    assert render(model, "json") == render(model, "json")


def test_render_quotes_odd_names():
    g = hand_built([('we"ird', "b")], ['we"ird', "b"])
    assert '"we\\"ird" -> "b";' in render(g, "dot")
    assert "we#quot;ird" in render(g, "mermaid")


def test_render_unknown_format(model):
    with pytest.raises(ValueError, match="dot, mermaid, json"):
        render(model, "svg")
