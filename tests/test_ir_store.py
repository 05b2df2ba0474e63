"""The diagram's own store (dicts and lists, networkx only on demand) gives what the networkx
graph it replaced gave: the same topological order, the same wires in the same order, and the
same errors for boxes built with a missing or unknown field."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram, PrimBox, WireEnd, _natural_key
from catdsl.diagram.lower import lower
from catdsl.loader import check_text
from catdsl.typesys.types import Carrier, Prod

REAL = Carrier("Real")
PROGRAM = """\
import std.ml
dim D = 3
param W : Real[D, D] = zeros
param b : Real[D] = zeros
morphism layer : Real[D] -> Real[D] = affine(W, b) >> tanh
let twice = layer >> layer
let both = <twice, layer> >> add
"""


def nx_order(d: Diagram) -> list[str]:
    """The order the diagram kept before: networkx's lexicographic topological sort."""
    return list(nx.lexicographical_topological_sort(d.graph, key=_natural_key))


def wires(d: Diagram, box_id: str) -> tuple[list, list]:
    """A box's wires as networkx lists them, in its adjacency order."""
    ins = [(s, a["src_port"], a["dst_port"]) for s, _, a in d.graph.in_edges(box_id, data=True)]
    outs = [(t, a["src_port"], a["dst_port"]) for _, t, a in d.graph.out_edges(box_id, data=True)]
    return ins, outs


def chain(n: int) -> Diagram:
    d = Diagram(Prod((REAL,)), Prod((REAL,)))
    previous = WireEnd(INPUT, 0)
    for _ in range(n):
        box = d.add(PrimBox, "tanh", (REAL,), (REAL,), name="tanh")
        d.connect(previous, WireEnd(box, 0))
        previous = WireEnd(box, 0)
    d.connect(previous, WireEnd(OUTPUT, 0))
    return d


def test_lowered_diagrams_read_as_their_networkx_graph() -> None:
    checked = check_text(PROGRAM, "<ir>")
    consts = {n: dfn.term for n, dfn in checked.definitions.items() if dfn.kind == "data"}
    d = lower(checked.definitions["both"].term, "both", consts)
    todo, seen, names = [d], set(), set()
    while todo:
        diagram = todo.pop()
        if id(diagram) in seen:
            continue
        seen.add(id(diagram))
        names.add(diagram.name)
        order = [b.id for b in diagram.boxes()]
        assert order == nx_order(diagram)
        assert sorted(order) == sorted(diagram.graph.nodes)
        holders = [b.id for b in diagram.boxes() if getattr(b, "sub", None) is not None]
        assert sorted(b.id for b in diagram.nesting_boxes()) == sorted(holders)
        for box in diagram.boxes():
            ins, outs = wires(diagram, box.id)
            feeds = {dst_port: WireEnd(src, src_port) for src, src_port, dst_port in ins}
            assert diagram.incoming(box.id) == [feeds[k] for k in range(len(box.inputs))]
            targets: list[list[WireEnd]] = [[] for _ in box.outputs]
            for dst, src_port, dst_port in outs:
                targets[src_port].append(WireEnd(dst, dst_port))
            assert diagram.outgoing(box.id) == targets
            sub = getattr(box, "sub", None)
            if sub is not None:
                todo.append(sub)
    assert names == {"both", "twice", "layer"}


def test_numbered_gives_each_box_its_feeding_wires() -> None:
    d = chain(3)
    order, n_wires = d.numbered()
    assert [box.id for box, _, _ in order] == ["b0", "b1", "b2", OUTPUT]
    assert [(feeds, first) for _, feeds, first in order] == [
        ((0,), 1),
        ((1,), 2),
        ((2,), 3),
        ((3,), 4),
    ]
    assert n_wires == 4


def test_wires_added_backwards_sort_as_networkx_does() -> None:
    """Boxes wired against their creation order (as hand-built diagrams may be) take the
    heap-ordered sort, which agrees with networkx; the graph view follows every change."""
    d = Diagram(Prod((REAL,)), Prod((REAL, REAL)))
    late = d.add(PrimBox, "late", (REAL,), (REAL,), name="tanh")
    early = d.add(PrimBox, "early", (REAL,), (REAL,), name="tanh")
    side = d.add(PrimBox, "side", (REAL,), (REAL,), name="tanh")
    d.connect(WireEnd(INPUT, 0), WireEnd(early, 0))
    assert [b.id for b in d.boxes()] == nx_order(d)
    d.connect(WireEnd(early, 0), WireEnd(late, 0))  # b1 feeds b0: not creation order
    d.connect(WireEnd(INPUT, 0), WireEnd(side, 0))
    d.connect(WireEnd(late, 0), WireEnd(OUTPUT, 0))
    d.connect(WireEnd(side, 0), WireEnd(OUTPUT, 1))
    assert [b.id for b in d.boxes()] == nx_order(d) == ["in", "b1", "b0", "b2", "out"]
    assert d.graph.number_of_edges() == 5
    assert d.outgoing(INPUT) == [[WireEnd(early, 0), WireEnd(side, 0)]]


def test_fan_out_keeps_networkx_adjacency_order() -> None:
    """One output feeding several inputs lists them grouped by target box, targets in the
    order they were first wired: what networkx's adjacency dicts gave the renderer."""
    d = Diagram(Prod((REAL,)), Prod((REAL,)))
    pair = d.add(PrimBox, "add", (REAL, REAL), (REAL,), name="add")
    other = d.add(PrimBox, "neg", (REAL,), (REAL,), name="neg")
    d.connect(WireEnd(INPUT, 0), WireEnd(pair, 1))
    d.connect(WireEnd(INPUT, 0), WireEnd(other, 0))
    d.connect(WireEnd(INPUT, 0), WireEnd(pair, 0))
    d.connect(WireEnd(pair, 0), WireEnd(OUTPUT, 0))
    _, outs = wires(d, INPUT)
    expected = [WireEnd(dst, dst_port) for dst, _, dst_port in outs]
    assert d.outgoing(INPUT) == [expected] == [[(pair, 1), (pair, 0), (other, 0)]]


def test_a_box_with_a_missing_or_unknown_field_is_refused_by_its_dataclass() -> None:
    d = Diagram(Prod((REAL,)), Prod((REAL,)))
    with pytest.raises(TypeError, match="unexpected keyword argument 'nme'"):
        d.add(PrimBox, "tanh", (REAL,), (REAL,), nme="tanh")
    with pytest.raises(TypeError, match="structure"):
        d.add_box("struct", "swap", (REAL,), (REAL,))
    one, two = (d.box(d.add(PrimBox, "tanh", (REAL,), (REAL,), name="tanh")) for _ in "12")
    assert isinstance(one, PrimBox) and isinstance(two, PrimBox)
    assert one.static == two.static == {} and one.static is not two.static  # its own dict
    assert (one.in_ranks, one.subs, one.span) == ((), (), None)
    with pytest.raises(AttributeError):
        one.label = "other"  # type: ignore[misc]  # frozen as before


def test_an_unconnected_input_is_named() -> None:
    d = chain(2)
    d.add(PrimBox, "loose", (REAL,), (REAL,), name="tanh")
    with pytest.raises(ValueError, match=r"box b2 \(loose\) has an unconnected input"):
        d.numbered()


def test_each_box_class_is_made_as_its_dataclass_makes_it() -> None:
    """`maker` fills a box's fields in the dataclass's order with its defaults, a fresh value
    from each default factory, and what is given; a field missing is still refused."""
    from dataclasses import MISSING, fields

    from catdsl.diagram.ir import BOX_TYPES, maker

    for box_type in BOX_TYPES.values():
        required: dict[str, Any] = {
            f.name: f"<{f.name}>"
            for f in fields(box_type)[6:]
            if f.default is MISSING and f.default_factory is MISSING
        }
        shared = ("b7", "label", (REAL,), (REAL,), None, ("p",))
        made = maker(box_type)[0](*shared, **required)
        direct = box_type(
            id="b7", label="label", inputs=(REAL,), outputs=(REAL,), port_names=("p",), **required
        )
        assert type(made) is box_type
        assert list(vars(made).items()) == list(vars(direct).items()), box_type
        for f in fields(box_type):
            if f.default_factory is not MISSING:
                again = maker(box_type)[0](*shared, **required)
                assert getattr(again, f.name) is not getattr(made, f.name)
        if required:
            with pytest.raises(TypeError):
                maker(box_type)[0](*shared)


def test_lowerings_own_ways_in_give_the_boxes_add_gives() -> None:
    """`place_prim` and `place_source` (lowering's shortcuts) make the boxes and wires that
    `add` and `feed` make."""
    from catdsl.diagram.ir import ParamBox

    by_add = Diagram(Prod((REAL,)), Prod((REAL,)))
    w = by_add.add(ParamBox, "W", (), (REAL,), name="W")
    f = by_add.add(PrimBox, "f(W)", (REAL, REAL), (REAL,), port_names=("W",), name="f")
    by_add.feed(f, [(INPUT, 0), (w, 0)])
    by_add.feed(OUTPUT, [(f, 0)])
    short = Diagram(Prod((REAL,)), Prod((REAL,)))
    w2 = short.place_source(ParamBox, "W", REAL)
    f2 = short.place_prim(
        "f(W)", (REAL, REAL), (REAL,), None, ("W",), [(INPUT, 0), (w2, 0)], "f", {}, (), (), ()
    )
    short.feed(OUTPUT, [(f2, 0)])
    assert (w, f) == (w2, f2)
    for a, b in zip(by_add.boxes(), short.boxes(), strict=True):
        assert type(a) is type(b) and vars(a) == vars(b)
        assert by_add.incoming(a.id) == short.incoming(b.id)
        assert by_add.outgoing(a.id) == short.outgoing(b.id)
    assert [b.id for b in short.boxes()] == nx_order(short)
