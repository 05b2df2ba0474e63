"""Lowering typed terms to the diagram IR."""

from __future__ import annotations

import numpy as np
import pytest
from diagram_kit import port_box, validate
from termkit import (
    P,
    compile_diagram,
    const,
    copy,
    discard,
    fst,
    functor,
    hole,
    ident,
    opaque,
    pair,
    par,
    param,
    port,
    power,
    prim,
    real,
    ref,
    seq,
    snd,
    swap,
    tiny,
    train,
)

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram
from catdsl.diagram.lower import lower
from catdsl.errors import CatRuntimeError
from catdsl.typesys import terms as t

R3 = real(3)


def kinds(diagram: Diagram) -> list[str]:
    return [b.kind for b in diagram.inner_boxes()]


def relu() -> t.Prim:
    return prim("relu", R3, R3, in_ranks=(1,))


def test_one_box_per_prim_and_one_source_per_name():
    m = tiny()
    both = pair(m.predict, m.direct)  # E, W, b are used by both sides
    d = lower(both, "both")
    validate(d)
    assert [b.label for b in d.inner_boxes() if b.kind == "param"] == ["E", "W", "b"]
    refs = [b for b in d.inner_boxes() if b.kind == "ref"]
    assert [r.label for r in refs] == ["predict", "DirectPredict"]
    assert all(r.port_names == ("E", "W", "b") for r in refs)
    e_box = port_box(d, "E")
    assert sum(len(targets) for targets in d.outgoing(e_box)) == 2  # one wire, fanned out


def test_ref_holds_its_body_and_prims_carry_their_data():
    m = tiny()
    d = lower(m.embedding, "Embedding")
    (box,) = [b for b in d.inner_boxes() if b.kind == "ref"]
    assert box.def_kind == "morphism"
    (inner,) = [b for b in box.sub.inner_boxes() if b.kind == "prim"]
    assert (inner.name, inner.static, inner.in_ranks) == ("lookup", {}, (0, 2))
    assert inner.port_names == ("E",) and inner.n_domain_inputs == 1


def test_pair_fans_out_the_input_wire():
    d = lower(pair(relu(), prim("tanh", R3, R3)))
    validate(d)
    assert len(d.outgoing(INPUT)[0]) == 2
    assert len(d.incoming(OUTPUT)) == 2


def test_structure_boxes():
    a, b = real(2), real(3)
    assert kinds(lower(ident(a, b))) == []
    assert kinds(lower(swap(a, b))) == ["struct"]
    d = lower(copy(a))
    (box,) = d.inner_boxes()
    assert (box.structure, box.split) == ("copy", 1) and len(box.outputs) == 2
    assert [b.structure for b in lower(discard(a)).inner_boxes()] == ["discard"]
    for proj in (fst(a, b), snd(a, b)):
        d = lower(proj)
        validate(d)
        (box,) = d.inner_boxes()
        assert box.structure == "discard" and len(box.inputs) == 1


def test_structure_runs_as_aliases():
    x, y = np.arange(2.0), np.arange(3.0)
    assert compile_diagram(lower(swap(real(2), real(3)))).run((x, y)) == (y, x)
    (a, b) = compile_diagram(lower(copy(real(2)))).run((x,))
    assert a is x and b is x
    assert compile_diagram(lower(fst(real(2), real(3)))).run((x, y)) == (x,)
    assert compile_diagram(lower(snd(real(2), real(3)))).run((x, y)) == (y,)
    assert compile_diagram(lower(discard(real(2)))).run((x,)) == ()
    assert not compile_diagram(lower(swap(real(2), real(3)))).instrs


def test_power_functor_and_zero_power():
    assert kinds(lower(power(relu(), 0))) == []
    d = lower(power(relu(), 3))
    (box,) = d.inner_boxes()
    assert box.kind == "power" and box.n == 3 and box.label == "relu ^ 3"
    assert kinds(box.sub) == ["prim"]
    (box,) = lower(functor("List", relu())).inner_boxes()
    assert box.kind == "functor" and box.functor == "List"


def test_opaque_and_hole_boxes_cannot_run():
    for term, kind in ((opaque("Mystery", R3, R3), "opaque"), (hole("x", R3, R3), "hole")):
        d = lower(term)
        assert kinds(d) == [kind]
        with pytest.raises(CatRuntimeError) as err:
            compile_diagram(d)
        assert err.value.diagnostic.code == "R0101"
        assert "has no definition, so it cannot run" in err.value.diagnostic.message


def test_constant_arguments_come_from_one_const_box():
    v = const("v", R3, [1.0, 2.0, 3.0])
    dot = prim("dot", R3, real(), args=("v",), in_ranks=(1, 1))
    d = lower(pair(dot, dot), consts={"v": v})
    validate(d)
    (box,) = [b for b in d.inner_boxes() if b.kind == "const"]
    assert box.value == [1.0, 2.0, 3.0]
    outs = compile_diagram(d).run((np.ones(3),))
    assert [float(o) for o in outs] == [6.0, 6.0]
    named = ref("v", v, kind="data")  # a data definition used by name: one collapsed point
    d = lower(pair(dot, dot), consts={"v": named})
    assert [b.kind for b in d.inner_boxes()] == ["ref", "prim", "prim"]
    assert [float(o) for o in compile_diagram(d).run((np.ones(3),))] == [6.0, 6.0]


def test_port_wire_feeds_a_primitive_extra_input():
    m = tiny()
    target = port("target", m.TokenId)
    wire = t.PortWire(P(), P(m.TokenId), None, name="target", ports=(target,))
    nll = prim("nll", (m.Distribution, m.TokenId), m.Loss, in_ranks=(1, 0))
    cross_entropy = ref("CrossEntropy", seq(par(ident(m.Distribution), wire), nll))
    d = lower(cross_entropy)
    validate(d)
    assert [b.label for b in d.inner_boxes()] == ["target", "CrossEntropy"]
    plan = compile_diagram(d)
    assert [(s.name, s.kind) for s in plan.sources] == [("target", "port")]
    (loss,) = plan.run((np.array([0.1, 0.9, 0.0, 0.0, 0.0]),), {"target": np.array(1)})
    assert abs(loss + np.log(0.9)) < 1e-15


def test_bind_feeds_a_port_from_a_point():
    shift = port("shift", R3)
    plus = prim("add", R3, R3, args=("shift",), ports=(shift,), in_ranks=(1, 1))
    point = const("three", R3, [3.0, 3.0, 3.0])
    bound = t.Bind(P(R3), P(R3), None, inner=plus, bindings=(("shift", point),))
    d = lower(bound)
    validate(d)
    assert "port" not in kinds(d)
    assert compile_diagram(d).run((np.zeros(3),))[0].tolist() == [3.0, 3.0, 3.0]


def test_wiring_block_fans_out_names():
    add = prim("add", (R3, R3), R3, in_ranks=(1, 1))
    block = t.Wiring(
        P(R3),
        P(R3),
        None,
        inputs=("x",),
        steps=((("a",), relu(), ("x",)), (("y",), add, ("x", "a"))),
        result=("y",),
    )
    d = lower(block)
    validate(d)
    assert len(d.outgoing(INPUT)[0]) == 2
    x = np.array([-1.0, 0.5, 2.0])
    assert compile_diagram(d).run((x,))[0].tolist() == [-1.0, 1.0, 4.0]


def test_param_point_and_train_box():
    m = tiny()
    point = t.Param(P(), P(real(5)), None, name="b", init="zeros", ports=(param("b", real(5)),))
    d = lower(point)
    (box,) = d.inner_boxes()
    assert box.kind == "param" and box.init == "zeros"
    step = train("TrainStep", m.loss, m.examples, hyper=(("lr", 1.0),))
    (box,) = lower(step).inner_boxes()
    assert box.kind == "train" and box.family == "TrainStep"
    assert box.params == ("E", "W", "b") and box.hyper == {"lr": 1.0}
    assert isinstance(box.loss, Diagram) and isinstance(box.data, Diagram)
    init = train("Init", m.loss, None, dom=P())
    (_, _, _, box) = lower(init).inner_boxes()
    assert box.port_names == ("E", "W", "b")


def test_big_pipeline_lowers_without_deep_recursion():
    chain = seq(*[relu() for _ in range(2000)])
    d = lower(chain)
    assert len(d) == 2000
    x = np.array([-1.0, 0.0, 1.0])
    assert compile_diagram(d).run((x,), check=False)[0].tolist() == [0.0, 0.0, 1.0]
