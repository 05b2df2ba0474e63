"""The renderer: DOT text read back and checked for boxes, wires, order, params, junctions,
clusters, laws and illegal diagrams; SVG/PNG/PDF through Graphviz when `dot` is installed."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import diagram_kit as kit
import pytest
from conftest import REPO
from diagram_kit import DotGraph, needs_dot, read_dot

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram
from catdsl.errors import CatRuntimeError, IllegalComposition
from catdsl.render.commutative import box_chain, law_to_dot
from catdsl.render.dot import to_dot
from catdsl.render.errors import illegal_to_dot
from catdsl.render.output import page_of, render, repr_svg, svg_of
from catdsl.render.style import RED
from catdsl.std.optim import FAMILIES
from catdsl.typesys.types import Prod


def draw(diagram: Diagram, **options) -> DotGraph:
    return read_dot(to_dot(diagram, **options))


def text(markup: str) -> str:
    """The visible text of an HTML-like label."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def box_label(g: DotGraph, node: str) -> str:
    """The text in a box's middle cell (its chips left out)."""
    cell = re.search(r'<TD CELLPADDING="6">(.*?)</TD>', g.nodes[node]["label"])
    assert cell, f"{node} is not a box"
    return text(cell.group(1))


def chips(g: DotGraph, node: str) -> list[str]:
    """Names of the chips (params, ports, constants) dropped into a box, left to right."""
    return re.findall(r'<FONT POINT-SIZE="10">(.*?)</FONT>', g.nodes[node]["label"])


def ports(g: DotGraph, node: str) -> list[str]:
    return re.findall(r'PORT="(\w+)"', g.nodes[node]["label"])


def edge(g: DotGraph, tail: str, head: str) -> dict[str, str]:
    """The one edge from `tail` to `head`, each a node or `node:port`."""

    def at(end: str, node: str, port: str) -> bool:
        name, _, want = end.partition(":")
        return name == node and want in ("", port)

    found = [
        e
        for e in g.edges
        if at(tail, e["tail"], e["tailport"]) and at(head, e["head"], e["headport"])
    ]
    assert len(found) == 1, f"{tail} -> {head}: {found}"
    return found[0]


def wire_labels(g: DotGraph) -> set[str]:
    return {e["label"] for e in g.edges if e.get("label")}


def cluster_of(g: DotGraph, node: str) -> str | None:
    return g.parent.get(node)


# ---------------------------------------------------------------------- string diagrams


def test_tiny_pipeline_boxes_wires_and_params_from_above() -> None:
    g = draw(kit.tiny_pipeline())
    assert g.attrs["rankdir"] == "LR"
    assert [box_label(g, b) for b in ("b3", "b4", "b5")] == [
        "Embedding",
        "LinearToLogits",
        "Softmax",
    ]
    assert edge(g, "in:p0", "b3:i0")["label"] == "TokenId"
    assert [edge(g, a, b)["label"] for a, b in [("b3", "b4"), ("b4", "b5"), ("b5", "out:p0")]] == [
        "Vector",
        "Logits",
        "Distribution",
    ]
    # params are chips drawn on top of the box they enter, in port order, not separate nodes
    assert chips(g, "b3") == ["E"] and chips(g, "b4") == ["W", "b"] and chips(g, "b5") == []
    assert not {"b0", "b1", "b2"} & set(g.nodes)
    assert "Real[V, D]" in text(g.nodes["b3"]["label"])
    label = g.nodes["b4"]["label"]
    assert label.index(">W<") < label.index(">b<") < label.index("LinearToLogits")
    assert ports(g, "b4") == ["i1", "i2", "i0", "o0"]  # top row (W, b), then left, then right
    assert g.nodes["b3"]["tooltip"] == "tiny.cat:22:15"
    assert g.nodes["b3"]["id"] == "b3"


def test_boundary_wires_keep_their_order() -> None:
    g = draw(kit.loss())
    assert ("source", ["in"]) in g.ranks and ("sink", ["out"]) in g.ranks
    assert ports(g, "in") == ["p0", "p1"] and ports(g, "out") == ["p0"]  # one cell per wire
    assert edge(g, "in:p0", "b3:i0")["label"] == "TokenId"
    assert edge(g, "in:p1", "b4:i1")["label"] == "TokenId"
    ce = g.nodes["b4"]["label"]
    assert ce.index('PORT="i0"') < ce.index('PORT="i1"') < ce.index('PORT="o0"')
    assert edge(g, "b3", "b4")["headport"] == "i0" and edge(g, "b3", "b4")["label"] == (
        "Distribution"
    )
    assert wire_labels(g) == {"TokenId", "Distribution", "Loss"}


def test_product_into_one_box() -> None:
    g = draw(kit.cross_entropy())
    assert box_label(g, "b0") == "CrossEntropy"
    assert [(e["tail"], e["headport"], e["label"]) for e in g.edges_to("b0")] == [
        ("in", "i0", "Distribution"),
        ("in", "i1", "TokenId"),
    ]


def test_power_is_one_box_marked_times_n() -> None:
    g = draw(kit.training_loop(80))
    assert box_label(g, "b0") == "step ×80"
    assert "<B>×80</B>" in g.nodes["b0"]["label"]
    assert wire_labels(g) == {"Params(loss)"}
    assert not g.clusters


def test_unroll_draws_copies_with_an_ellipsis() -> None:
    g = draw(kit.training_loop(80), unroll=True)
    copies = ["b0.1.b0", "b0.2.b0", "b0.3.b0", "b0.80.b0"]
    assert [box_label(g, c) for c in copies] == ["step"] * 4
    assert box_label(g, "b0.more") == "… 76 more …"
    assert g.clusters["cluster_b0"]["label"] == "step ×80"
    path = ["in", *copies[:3], "b0.more", copies[3], "out"]
    for a, b in pairwise(path):
        assert edge(g, a, b)["label"] == "Params(loss)"
    small = draw(kit.training_loop(5), unroll=True)
    assert sorted(n for n in small.nodes if n.startswith("b0.")) == [
        f"b0.{i}.b0" for i in range(1, 6)
    ]
    assert edge(draw(kit.training_loop(0), unroll=True), "in:p0", "out:p0")


def test_swap_is_a_crossing_not_a_box() -> None:
    g = draw(kit.swap())
    assert ports(g, "b0.e") == ["p0", "p1"] and ports(g, "b0.x") == ["p0", "p1"]
    assert "label" not in edge(g, "b0.e:p0", "b0.x:p1")  # the crossing
    assert "label" not in edge(g, "b0.e:p1", "b0.x:p0")
    assert edge(g, "in:p0", "b0.e:p0")["label"] == "Distribution"
    assert edge(g, "in:p1", "b0.e:p1")["label"] == "TokenId"
    assert edge(g, "b0.x:p0", "out:p0")["label"] == "TokenId"
    assert edge(g, "b0.x:p1", "out:p1")["label"] == "Distribution"
    assert not any("swap" in a.get("label", "") for a in g.nodes.values())


@pytest.mark.parametrize("explicit", [True, False])
def test_copy_is_a_junction_dot(explicit: bool) -> None:
    g = draw(kit.residual(explicit))
    junctions = [n for n in g.nodes if n.endswith(".copy")]
    assert junctions == ["in.p0.copy"]
    assert g.nodes["in.p0.copy"]["shape"] == "point"
    assert edge(g, "in:p0", "in.p0.copy")["label"] == "Vector"
    heads = sorted((e["head"], e["headport"]) for e in g.edges_from("in.p0.copy"))
    assert heads == [("b0", "i0"), ("b1", "i0")]  # into Attention, and into add's first port
    assert "label" not in g.edges_from("in.p0.copy")[0]  # the wire is labelled once
    assert edge(g, "b0", "b1")["headport"] == "i1"
    assert "b2" not in g.nodes  # no box for the copy


def test_discard_is_a_dot_end() -> None:
    g = draw(kit.keep_first())
    assert edge(g, "in:p1", "in.p1.end")["label"] == "TokenId"
    assert g.nodes["in.p1.end"]["shape"] == "point"
    assert edge(g, "in:p0", "out:p0")["label"] == "TokenId"  # identity is a bare wire


def test_functor_is_a_bubble_around_its_diagram() -> None:
    g = draw(kit.mapped_embedding())
    assert g.clusters["cluster_b1"]["label"] == "List"
    assert "filled" in g.clusters["cluster_b1"]["style"]
    inner = "b1.b1"
    assert box_label(g, inner) == "Embedding" and cluster_of(g, inner) == "cluster_b1"
    assert chips(g, inner) == ["E"]
    assert cluster_of(g, "b1.in") == cluster_of(g, "b1.out") == "cluster_b1"
    assert edge(g, "in:p0", "b1.in:p0")["label"] == "List[TokenId]"
    assert edge(g, "b1.in:p0", inner)["label"] == "TokenId"
    assert edge(g, inner, "b1.out:p0")["label"] == "Vector"
    assert edge(g, "b1.out:p0", "out:p0")["label"] == "List[Vector]"


def test_expand_opens_definitions_level_by_level() -> None:
    closed = draw(kit.loss())
    assert box_label(closed, "b3") == "predict" and chips(closed, "b3") == ["E", "W", "b"]
    one = draw(kit.loss(), expand=1)
    assert one.clusters["cluster_b3"]["label"] == "predict"
    assert "dashed" in one.clusters["cluster_b3"]["style"]
    assert [box_label(one, n) for n in ("b3.b3", "b3.b4", "b3.b5")] == [
        "Embedding",
        "LinearToLogits",
        "Softmax",
    ]
    assert all(cluster_of(one, n) == "cluster_b3" for n in ("b3.b3", "b3.b4", "b3.b5"))
    assert chips(one, "b3.b3") == ["E"]  # the outer param E enters the inner box
    assert edge(one, "in:p0", "b3.b3")["label"] == "TokenId"
    assert edge(one, "b3.b5", "b4")["label"] == "Distribution"
    two = draw(kit.loss(), expand=2)
    assert two.clusters["cluster_b3.b3"]["label"] == "Embedding"
    assert two.parent["cluster_b3.b3"] == "cluster_b3"
    assert box_label(two, "b3.b3.b1") == "lookup(E)" and chips(two, "b3.b3.b1") == ["E"]
    assert box_label(two, "b3.b4.b2") == "affine(W, b)" and chips(two, "b3.b4.b2") == ["W", "b"]
    assert edge(two, "b3.b3.b1", "b3.b4.b2")["label"] == "Vector"


def test_expanded_training_step_shows_its_loss_once() -> None:
    g = draw(kit.training_loop(), expand=3)
    assert g.clusters["cluster_b0"]["label"] == "step ×80"
    train = "b0.b0.b0"
    assert box_label(g, train) == "TrainStep(loss, lr=1.0)"
    loss = "cluster_b0.b0.b0.loss"
    assert g.clusters[loss]["label"] == "loss (the loss of TrainStep)"
    assert g.parent[loss] is None  # beside the drawing, not inside the loop
    assert box_label(g, "b0.b0.b0.loss.b3") == "predict"
    assert cluster_of(g, "b0.b0.b0.loss.b3") == loss
    assert edge(g, "b0.b0.b0.loss.in:p1", "b0.b0.b0.loss.b4:i1")["label"] == "TokenId"
    unrolled = draw(kit.training_loop(), expand=3, unroll=True)
    assert [c for c in unrolled.clusters if c.endswith(".loss")] == ["cluster_b0.1.b0.b0.loss"]
    assert not [c for c in draw(kit.training_loop(), expand=2).clusters if "loss" in c]


def _chain_sharing_one_param(uses: int) -> Diagram:
    """`linear(W) >> linear(W) >> ...`: one param W feeding the top of every box."""
    d = Diagram(Prod((kit.Vector,)), Prod((kit.Vector,)), "shared")
    w = kit.param(d, "W")
    previous = (INPUT, 0)
    for _ in range(uses):
        box = d.add_box("prim", "linear(W)", (kit.Vector, kit.PARAM_TYPES["W"]), (kit.Vector,))
        kit.link(d, *previous, box, 0)
        kit.link(d, w, 0, box, 1)
        previous = (box, 0)
    kit.link(d, *previous, OUTPUT, 0)
    return d


@pytest.mark.parametrize("uses", [2, 3, 40])
def test_a_shared_param_is_drawn_inside_each_box_that_uses_it(uses: int) -> None:
    """Tied weights: a fork would rank the chip with the inputs, a wide one is unreadable."""
    g = draw(_chain_sharing_one_param(uses))
    assert "b0" not in g.nodes and "b0.copy" not in g.nodes
    assert [chips(g, f"b{k}") for k in range(1, uses + 1)] == [["W"]] * uses
    assert [edge(g, f"b{k}:o0", f"b{k + 1}:i0")["label"] for k in range(1, uses)] == ["Vector"] * (
        uses - 1
    )
    assert edge(g, "in:p0", "b1:i0")["label"] == "Vector"


def test_a_param_that_also_feeds_a_side_input_forks() -> None:
    """A chip can only be drawn inside a box it enters from above; otherwise its wire forks."""
    d = Diagram(Prod((kit.Vector,)), Prod((kit.Vector, kit.PARAM_TYPES["W"])), "leak")
    w = kit.param(d, "W")
    first = d.add_box("prim", "linear(W)", (kit.Vector, kit.PARAM_TYPES["W"]), (kit.Vector,))
    kit.link(d, INPUT, 0, first, 0)
    kit.link(d, w, 0, first, 1)
    kit.link(d, first, 0, OUTPUT, 0)
    kit.link(d, w, 0, OUTPUT, 1)
    g = draw(d)
    assert "W" in text(g.nodes["b0"]["label"])  # a node of its own, not inside a box
    assert [e["head"] for e in g.edges_from("b0")] == ["b0.copy"]
    assert sorted((e["head"], e.get("headport")) for e in g.edges_from("b0.copy")) == [
        ("b1", "i1"),
        ("out", "p1"),
    ]


def test_init_does_not_draw_its_loss() -> None:
    d = Diagram(Prod(()), Prod((kit.Params,)), "start")
    b = d.add_box(
        "train",
        "Init(loss)",
        (),
        (kit.Params,),
        data={
            "family": "Init",
            "spec": FAMILIES["Init"],
            "loss": kit.loss(),
            "data": None,
            "hyper": {},
        },
    )
    kit.link(d, b, 0, OUTPUT, 0)
    g = draw(d, expand=5)
    assert box_label(g, "b0") == "Init(loss)" and not g.clusters


def test_shapes_show_carriers_with_bound_dims() -> None:
    g = draw(kit.tiny_pipeline(), shapes=True)
    assert wire_labels(g) == {
        "TokenId : Index[5]",
        "Vector : Real[4]",
        "Logits : Real[5]",
        "Distribution : Simplex[5]",
    }
    assert "Real[5, 4]" in text(g.nodes["b3"]["label"])
    trained = draw(kit.training_loop(), shapes=True)
    assert wire_labels(trained) == {"Params(loss) : {E, W, b}"}


def test_hole_is_dashed_and_const_is_a_source() -> None:
    g = draw(kit.incomplete())
    assert box_label(g, "b2") == "?middle"
    assert 'STYLE="rounded,dashed"' in g.nodes["b2"]["label"]
    ex = draw(kit.examples())
    assert "in" not in ex.nodes and ("source", ["in"]) not in ex.ranks  # a point has no inputs
    assert "corpus" in text(ex.nodes["b0"]["label"])
    assert box_label(ex, "b1") == "Windowing"
    assert "label" not in edge(ex, "b0", "b1")  # the constant's chip names its type


def test_labels_are_escaped() -> None:
    d = Diagram(Prod((kit.Params,)), Prod((kit.Params,)), 'odd "name"')
    b = d.add_box("opaque", "a<b> & Params(loss)", (kit.Params,), (kit.Params,))
    kit.link(d, INPUT, 0, b, 0)
    kit.link(d, b, 0, OUTPUT, 0)
    source = to_dot(d, title="x < y & z")
    assert "a&lt;b&gt; &amp; Params(loss)" in source
    g = read_dot(source)
    assert box_label(g, "b0") == "a<b> & Params(loss)"
    assert g.attrs["label"] == "x < y & z"


def test_highlight_paints_boxes_and_wires_red() -> None:
    g = draw(kit.tiny_pipeline(), highlight={("b4",), ("b4", 0)})
    assert f'COLOR="{RED}"' in g.nodes["b4"]["label"]
    assert f'COLOR="{RED}"' not in g.nodes["b3"]["label"]
    assert edge(g, "b4", "b5")["color"] == RED
    assert "color" not in edge(g, "b3", "b4")


def test_ids_are_stable() -> None:
    assert to_dot(kit.loss(), expand=2) == to_dot(kit.loss(), expand=2)
    assert re.findall(r"^  \"(b\d+)\" \[", to_dot(kit.tiny_pipeline()), re.M) == [
        "b3",
        "b4",
        "b5",
    ]


# ---------------------------------------------------------------------- laws and errors


def chain_of(name: str, steps: list[tuple[str, object]], dom) -> Diagram:
    d = Diagram(Prod((dom,)), Prod((steps[-1][1],)), name)
    previous = INPUT
    for label, cod in steps:
        b = d.add_box("ref", label, (d.box(previous).outputs[0],), (cod,))
        kit.link(d, previous, 0, b, 0)
        previous = b
    kit.link(d, previous, 0, OUTPUT, 0)
    return d


def arrows(g: DotGraph) -> list[tuple[str, str, str]]:
    """Arrows of the commutative part as (from object, to object, label), drawn direction."""
    out = []
    for e in g.edges:
        if e["tail"].startswith("law.") and e.get("style") != "invis":
            a, b = (e["head"], e["tail"]) if e.get("dir") == "back" else (e["tail"], e["head"])
            label = e.get("label") or e["xlabel"]  # arrows inside a rank carry an xlabel
            out.append((g.nodes[a]["label"], g.nodes[b]["label"], text(label)))
    return out


def test_law_triangle() -> None:
    lhs = chain_of("lhs", [("Embedding", kit.Vector), ("ToDist", kit.Distribution)], kit.TokenId)
    rhs = chain_of("DirectPredict", [("DirectPredict", kit.Distribution)], kit.TokenId)
    g = read_dot(law_to_dot("tri", lhs, rhs, 1e-6))
    assert sorted(arrows(g)) == [
        ("TokenId", "Distribution", "DirectPredict"),
        ("TokenId", "Vector", "Embedding"),
        ("Vector", "Distribution", "ToDist"),
    ]
    assert ("same", ["law.l0", "law.tgt"]) in g.ranks  # the corner of the triangle
    assert g.clusters["cluster_law"]["label"] == (
        "tri:  Embedding >> ToDist = DirectPredict   (within 1e-06)"
    )
    assert g.clusters["cluster_lhs"]["label"] == "left-hand side"
    assert g.clusters["cluster_rhs"]["label"] == "right-hand side"
    assert box_label(g, "lhs.b0") == "Embedding" and box_label(g, "rhs.b0") == "DirectPredict"
    assert cluster_of(g, "lhs.b1") == "cluster_lhs"


def test_law_square_and_general_paths() -> None:
    lhs = chain_of("l", [("Embedding", kit.Vector), ("ToDist", kit.Distribution)], kit.TokenId)
    rhs = chain_of("r", [("Lookup", kit.Logits), ("Softmax", kit.Distribution)], kit.TokenId)
    g = read_dot(law_to_dot("square", lhs, rhs, None))
    assert sorted(arrows(g)) == [
        ("Logits", "Distribution", "Softmax"),
        ("TokenId", "Logits", "Lookup"),
        ("TokenId", "Vector", "Embedding"),
        ("Vector", "Distribution", "ToDist"),
    ]
    assert ("same", ["law.src", "law.r0"]) in g.ranks and ("same", ["law.l0", "law.tgt"]) in g.ranks
    assert "within" not in g.clusters["cluster_law"]["label"]
    # a side that is not one chain is one arrow labelled by its definition
    block = chain_of("Block", [("Block", kit.Vector)], kit.Vector)
    assert box_chain(kit.residual()) is None
    g = read_dot(law_to_dot("res", kit.residual(), block, 1e-9))
    assert sorted(arrows(g)) == [("Vector", "Vector", "Block"), ("Vector", "Vector", "block")]


def test_chain_skips_params_from_above() -> None:
    chain = box_chain(kit.tiny_pipeline())
    assert chain is not None and [b.label for b in chain] == [
        "Embedding",
        "LinearToLogits",
        "Softmax",
    ]


def test_illegal_composition_has_a_red_broken_wire() -> None:
    g = read_dot(
        illegal_to_dot(
            [
                ("Embedding", [kit.TokenId], [kit.Vector]),
                ("Softmax", [kit.Logits], [kit.Distribution]),
            ],
            0,
        )
    )
    bad = edge(g, "p0.b0", "p1.b0")
    assert (bad["label"], bad["color"], bad["style"]) == ("Vector ≠ Logits", RED, "dashed")
    assert (bad["tailport"], bad["headport"]) == ("o0", "i0")
    assert [box_label(g, b) for b in ("p0.b0", "p1.b0")] == ["Embedding", "Softmax"]
    assert all(f'COLOR="{RED}"' in g.nodes[b]["label"] for b in ("p0.b0", "p1.b0"))
    assert "color" not in edge(g, "in", "p0.b0")
    assert edge(g, "p1.b0", "out")["label"] == "Distribution"
    assert g.attrs["label"] == "illegal composition: Embedding >> Softmax"


def test_illegal_composition_from_the_checker() -> None:
    figure = IllegalComposition(
        "predict",
        (("Embedding", ("TokenId",), ("Vector",)), ("Softmax", ("Logits",), ("Distribution",))),
        0,
        "Logits",
        "Vector",
    )
    g = read_dot(illegal_to_dot(figure))
    assert g.attrs["label"] == "illegal composition in `predict`: Embedding >> Softmax"
    assert edge(g, "p0.b0", "p1.b0")["label"] == "Vector ≠ Logits"


def test_illegal_composition_with_a_missing_wire() -> None:
    parts = [
        ("Embedding", ["TokenId"], ["Vector"]),
        ("LinearToLogits", ["Vector"], ["Logits"]),
        ("CrossEntropy", ["Distribution", "TokenId"], ["Loss"]),
    ]
    g = read_dot(illegal_to_dot(parts, 1))
    assert "color" not in edge(g, "p0.b0", "p1.b0")
    assert edge(g, "p1.b0", "p2.b0:i0")["label"] == "Logits ≠ Distribution"
    missing = edge(g, "nothing1", "p2.b0:i1")
    assert (missing["label"], missing["color"]) == ("nothing ≠ TokenId", RED)
    with pytest.raises(ValueError):
        illegal_to_dot(parts, 2)


def illegal_drawing_of(path: Path) -> DotGraph:
    """The illegal diagram `catdsl draw` makes of a program of programs/errors."""
    from catdsl.frontend.drawing import _illegal_figure
    from catdsl.loader import check_file

    source = _illegal_figure(check_file(path), None)
    assert source is not None
    return read_dot(source)


def test_an_illegal_part_is_drawn_as_what_it_is() -> None:
    """`Logits * TokenId` is two bare wires, not a box; the broken one is red."""
    g = illegal_drawing_of(REPO / "programs" / "errors" / "crossentropy_on_logits.cat")
    assert box_labels(g) == ["CrossEntropy"]
    assert edge(g, "in:p0", "p1.b0:i0")["label"] == "Logits ≠ Distribution"
    assert edge(g, "in:p0", "p1.b0:i0")["color"] == RED
    assert edge(g, "in:p1", "p1.b0:i1")["label"] == "TokenId"
    assert "color" not in edge(g, "in:p1", "p1.b0:i1")


def test_an_illegal_constant_is_a_chip_with_a_red_wire() -> None:
    g = illegal_drawing_of(REPO / "programs" / "errors" / "raw_integer.cat")
    assert box_labels(g) == ["Embedding"] and chips(g, "p1.b1") == ["E"]
    assert "3" in text(g.nodes["p0.b0"]["label"]) and "Nat" in text(g.nodes["p0.b0"]["label"])
    wire = edge(g, "p0.b0", "p1.b1:i0")
    assert (wire["label"], wire["color"]) == ("Nat ≠ TokenId", RED)


def test_an_illegal_product_is_two_boxes_and_a_swap_is_a_crossing(tmp_path: Path) -> None:
    program = tmp_path / "bad.cat"
    program.write_text(
        "object A : Real[2]\nobject B : Real[3]\n"
        "morphism F : A -> A\nmorphism G : B -> B\nmorphism H : A * A -> A\n"
        "let bad = F * G >> H\nlet crossed = swap[A, B] >> H\n"
    )
    g = illegal_drawing_of(program)
    assert box_labels(g) == ["F", "G", "H"]
    assert edge(g, "p0.b1", "p1.b0:i1")["label"] == "B ≠ A"
    assert "color" not in edge(g, "p0.b0", "p1.b0:i0")
    from catdsl.frontend.drawing import _illegal_figure
    from catdsl.loader import check_file

    crossed = read_dot(_illegal_figure(check_file(program), "crossed"))
    assert box_labels(crossed) == ["H"]
    assert {"p0.b0.e", "p0.b0.x"} <= set(crossed.nodes)  # the crossing's two columns


def test_page_of_puts_each_definition_in_a_cluster() -> None:
    g = read_dot(page_of([("predict", kit.tiny_pipeline()), ("loss", kit.loss())]))
    assert g.clusters["cluster_def0"]["label"] == "predict : TokenId -> Distribution"
    assert g.clusters["cluster_def1"]["label"] == "loss : TokenId * TokenId -> Loss"
    assert box_label(g, "d0.b3") == "Embedding" and cluster_of(g, "d0.b3") == "cluster_def0"
    assert ports(g, "d1.in") == ["p0", "p1"] and cluster_of(g, "d1.in") == "cluster_def1"


# ---------------------------------------------------------------------- files and Graphviz

ALL_DRAWINGS = {
    "tiny": lambda: to_dot(kit.tiny_pipeline()),
    "loss2": lambda: to_dot(kit.loss(), expand=2, shapes=True),
    "train": lambda: to_dot(kit.training_loop(), unroll=True, expand=3),
    "swap": lambda: to_dot(kit.swap()),
    "copy": lambda: to_dot(kit.residual()),
    "fst": lambda: to_dot(kit.keep_first()),
    "list": lambda: to_dot(kit.mapped_embedding()),
    "hole": lambda: to_dot(kit.incomplete(), highlight={("b2",), ("b1", 0)}),
    "points": lambda: to_dot(kit.examples()),
    "law": lambda: law_to_dot("res", kit.residual(), kit.residual(False), 1e-9),
    "illegal": lambda: illegal_to_dot([("f", ["Vector"], ["Vector"]), ("g", ["Logits"], [])], 0),
    "page": lambda: page_of([("predict", kit.tiny_pipeline()), ("trained", kit.training_loop())]),
}


def test_dot_output_needs_no_graphviz(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    target = tmp_path / "tiny.dot"
    render(to_dot(kit.tiny_pipeline()), str(target))
    assert target.read_text() == to_dot(kit.tiny_pipeline())
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.dot"]  # no temporary file left
    with pytest.raises(CatRuntimeError) as err:
        render(to_dot(kit.tiny_pipeline()), str(tmp_path / "tiny.svg"))
    d = err.value.diagnostic
    assert d.code == "R0701"
    for hint in ("apt-get install graphviz", "brew install graphviz", ".dot"):
        assert hint in d.message
    assert repr_svg(kit.tiny_pipeline()) is None
    assert not (tmp_path / "tiny.svg").exists()


def test_unknown_format_is_refused(tmp_path) -> None:
    with pytest.raises(CatRuntimeError) as err:
        render("digraph {}", str(tmp_path / "x.jpeg"))
    assert err.value.diagnostic.code == "R0702"


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


@needs_dot
@pytest.mark.parametrize("name", sorted(ALL_DRAWINGS))
def test_graphviz_accepts_every_drawing_without_warnings(name: str) -> None:
    result = subprocess.run(
        ["dot", "-Tsvg"], input=ALL_DRAWINGS[name](), capture_output=True, text=True, check=True
    )
    assert result.stderr == ""
    assert "<svg" in result.stdout


@needs_dot
def test_svg_contains_every_label() -> None:
    svg = svg_of(to_dot(kit.loss(), expand=1))
    words = " ".join(svg_texts(svg))
    for label in ("Embedding", "LinearToLogits", "Softmax", "CrossEntropy", "predict"):
        assert label in words
    for wire in ("TokenId", "Vector", "Logits", "Distribution", "Loss"):
        assert wire in words
    for param in ("E", "W", "b", "Real[V, D]", "Real[D, V]", "Real[V]"):
        assert param in svg_texts(svg)
    assert 'id="b3.b3"' in svg and "tiny.cat:22:15" in svg
    trained = " ".join(svg_texts(svg_of(to_dot(kit.training_loop()))))
    assert "×80" in trained and "Params(loss)" in trained
    illegal = svg_texts(
        svg_of(illegal_to_dot([("f", ["Vector"], ["Vector"]), ("g", ["Logits"], ["Loss"])], 0))
    )
    assert "Vector ≠ Logits" in illegal


@needs_dot
def test_binary_formats_are_written(tmp_path) -> None:
    source = to_dot(kit.tiny_pipeline())
    for suffix, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")):
        target = tmp_path / f"tiny{suffix}"
        render(source, str(target))
        assert target.read_bytes().startswith(magic)
    assert repr_svg(kit.tiny_pipeline()).lstrip().startswith("<?xml")


def layout(source: str) -> dict[str, tuple[float, float]]:
    """Node centres after Graphviz lays the drawing out (y grows upwards)."""
    data = json.loads(
        subprocess.run(["dot", "-Tjson"], input=source, capture_output=True, text=True).stdout
    )
    return {
        o["name"]: tuple(map(float, o["pos"].split(","))) for o in data["objects"] if "pos" in o
    }


def wire_ends(source: str) -> dict[tuple[str, str], tuple[float, float]]:
    """Where each wire leaves its tail port after layout, by (node, port)."""
    data = json.loads(
        subprocess.run(["dot", "-Tjson"], input=source, capture_output=True, text=True).stdout
    )
    names = {o["_gvid"]: o["name"] for o in data["objects"] if "nodes" not in o}
    return {
        (names[e["tail"]], e.get("tailport", "").split(":")[0]): tuple(
            map(float, e["pos"].split()[0].split(",")[-2:])
        )
        for e in data["edges"]
        if "pos" in e
    }


@needs_dot
def test_layout_keeps_boundary_order_and_flows_left_to_right() -> None:
    pos = layout(to_dot(kit.loss()))
    assert pos["in"][0] < pos["b3"][0] < pos["b4"][0] < pos["out"][0]
    assert pos["b3"][1] > pos["b4"][1]  # the first input's box is the upper one
    ends = wire_ends(to_dot(kit.loss()))
    assert ends[("in", "p0")][1] > ends[("in", "p1")][1]  # first input wire on top


@needs_dot
def test_law_square_is_drawn_as_a_square() -> None:
    lhs = chain_of("l", [("Embedding", kit.Vector), ("ToDist", kit.Distribution)], kit.TokenId)
    rhs = chain_of("r", [("Lookup", kit.Logits), ("Softmax", kit.Distribution)], kit.TokenId)
    pos = layout(law_to_dot("square", lhs, rhs, None))
    src, top, bottom, tgt = (pos[n] for n in ("law.src", "law.l0", "law.r0", "law.tgt"))
    assert src[1] == top[1] > bottom[1] == tgt[1]  # two rows
    assert src[0] == bottom[0] < top[0] == tgt[0]  # two columns


def test_drawing_does_not_import_graphviz() -> None:
    code = (
        "import sys, catdsl.render.output as o, catdsl.render.commutative, catdsl.render.errors;"
        "print('graphviz' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_a_use_of_one_definition_is_drawn_as_its_body() -> None:
    index, real = kit.TokenId.carrier, kit.Vector.carrier  # a body may be structural
    body = Diagram(Prod((index,)), Prod((real,)), "Embedding")
    e = kit.param(body, "E")
    lookup = body.add_box("prim", "lookup(E)", (index, kit.PARAM_TYPES["E"]), (real,))
    kit.link(body, INPUT, 0, lookup, 0)
    kit.link(body, e, 0, lookup, 1)
    kit.link(body, lookup, 0, OUTPUT, 0)
    use = Diagram(Prod((kit.TokenId,)), Prod((kit.Vector,)), "Embedding")
    outer_e = kit.param(use, "E")
    kit.use(use, body, [(INPUT, 0)], {"E": outer_e}, 16)
    kit.link(use, "b1", 0, OUTPUT, 0)
    g = draw(use)
    assert box_label(g, "b1") == "lookup(E)" and chips(g, "b1") == ["E"]
    # the boundary shows the declared signature, the inside what the body computes
    assert edge(g, "in:p0", "b1")["label"] == "TokenId"
    assert edge(g, "b1", "out:p0")["label"] == "Vector"
    assert box_label(draw(kit.loss()), "b3") == "predict"  # more than one box: kept as it is


@needs_dot
def test_page_lists_definitions_top_to_bottom() -> None:
    pos = layout(page_of([("a", kit.swap()), ("b", kit.tiny_pipeline()), ("c", kit.swap())]))
    assert pos["d0.in"][1] > pos["d1.in"][1] > pos["d2.in"][1]


COURSE = sorted(p.name for p in (REPO / "programs").glob("*.cat"))


@needs_dot
@pytest.mark.parametrize("name", COURSE)
def test_course_programs_draw_cleanly(name: str) -> None:
    """Every definition and law of the course, lowered for real, draws without warnings."""
    catdsl = pytest.importorskip("catdsl")
    from catdsl.frontend.drawing import dot_for

    program = catdsl.load(str(REPO / "programs" / name))
    diagrams = [(n, program[n].diagram) for n in program.names]
    source_text = (REPO / "programs" / name).read_text()
    written = [law for law in program.checked.laws.values() if not law.generated]
    assert diagrams and len(written) == source_text.count("\nlaw ")
    sources = [page_of(diagrams)]
    sources += [to_dot(d, expand=2, unroll=True, shapes=True) for _, d in diagrams]
    sources += [dot_for(program, law) for law in program.checked.laws]
    for source in sources:
        result = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True)
        assert (result.returncode, result.stderr) == (0, ""), source[:300]


def course_program(name: str):
    import catdsl

    return catdsl.load(str(REPO / "programs" / name))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_an_opened_definition_keeps_the_names_of_its_wires(depth: int) -> None:
    """Opening `Embedding` shows `lookup(E)`, but the wire leaving it is still `Vector`."""
    g = draw(course_program("tiny_ml.cat")["predict"].diagram, expand=depth)
    labels = [e.get("label") for e in g.edges if e.get("label")]
    assert labels == ["TokenId", "Vector", "Logits", "Distribution"]


def test_a_loss_used_by_several_training_boxes_is_drawn_once_below() -> None:
    g = draw(course_program("tiny_ml.cat")["loss_after"].diagram, expand=4)
    frames = [c for c in g.clusters if c.endswith(".loss")]
    assert len(frames) == 1
    assert g.clusters[frames[0]]["label"] == "loss (the loss of TrainStep, MeanLoss)"
    assert g.parent[frames[0]] is None


@needs_dot
def test_the_loss_frame_lies_below_the_main_drawing() -> None:
    pos = layout(to_dot(course_program("tiny_ml.cat")["step"].diagram, expand=1))
    train, loss_input = pos["b0"], next(v for k, v in pos.items() if k.endswith(".loss.in"))
    assert loss_input[1] < train[1]  # Graphviz's y grows upwards


def box_labels(g: DotGraph) -> list[str]:
    """The labels of every box node, in the order of the DOT text."""
    return [box_label(g, n) for n, a in g.nodes.items() if 'CELLPADDING="6"' in a.get("label", "")]


def test_box_labels_show_constant_arguments_and_training_data() -> None:
    tiny = course_program("tiny_ml.cat")
    assert box_labels(draw(tiny["Windowing"].diagram)) == ["windows(2)"]
    assert box_labels(draw(tiny["step"].diagram)) == ["TrainStep(loss, examples, lr=1.0)"]
    assert "MeanLoss(loss, examples)" in box_labels(draw(tiny["loss_after"].diagram))
    assert box_labels(draw(course_program("composition.cat")["Double"].diagram)) == ["scale(2)"]


def test_a_long_optimiser_label_puts_its_hyperparameters_on_a_second_line() -> None:
    adam = course_program("adam_challenge.cat")
    g = draw(adam["adam"].diagram)
    node = next(n for n in g.nodes if "Adam(" in text(g.nodes[n].get("label", "")))
    lines = [text(part) for part in g.nodes[node]["label"].split("<BR/>")]
    assert lines[-2:] == ["Adam(LinearLoss,", "lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)"]


def test_reading_params_out_of_a_state_draws_no_loss() -> None:
    g = draw(course_program("adam_challenge.cat")["theta_after_one"].diagram, expand=3)
    frames = [g.clusters[c]["label"] for c in g.clusters if c.endswith(".loss")]
    assert frames == ["LinearLoss (the loss of Adam)"]


def test_a_body_of_bare_wires_is_drawn_as_those_wires() -> None:
    import catdsl

    program = catdsl.loads(
        "object A : Real[2]\nobject B : Real[3]\n"
        "let both(x: A, y: B) -> B * A = { return <y, x> }\nlet same = A\n"
    )
    both = draw(program["both"].diagram)
    assert box_labels(both) == []
    assert edge(both, "in:p0", "out:p1")["label"] == "A"
    assert edge(both, "in:p1", "out:p0")["label"] == "B"
    assert edge(draw(program["same"].diagram), "in:p0", "out:p0")["label"] == "A"


def test_a_value_copied_into_an_opened_definition_forks_inside_its_frame() -> None:
    import catdsl

    program = catdsl.loads(
        "import std.ml\nobject A : Real[4]\nparam W : Real[4, 4] = zeros\n"
        "morphism F : A -> A = linear(W)\nmorphism Add : A * A -> A = add\n"
        "let block(x: A) -> A = { h = F(x)\n return Add(x, h) }\nlet deep = block ^ 3\n"
    )
    g = draw(program["deep"].diagram, expand=2)
    (junction,) = [n for n in g.nodes if n.endswith(".copy")]
    assert cluster_of(g, junction) == "cluster_b1.b1"  # the opened `block`, not outside it
    assert g.parent["cluster_b1.b1"] == "cluster_b1"  # inside the `block ×3` frame
    assert [e["head"] for e in g.edges_from(junction)] == ["b1.b1.b1", "b1.b1.b2"]
