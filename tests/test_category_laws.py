"""Category laws, property-based, on random well-typed composites of small real kernels.

Composites over `Real[3]` are built from relu, tanh, scale(c), affine(W, b) (fresh params per
leaf), sequencing and `<f, g> >> add`. Compiled plans must satisfy associativity, identity,
interchange, the List functor laws, the symmetric-monoidal structure, and functoriality of the
reverse derivative (the VJP of f >> g is the VJP of g, then the VJP of f).
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from termkit import compile_diagram, copy, functor, ident, pair, par, param, prim, real, seq, swap

from catdsl.diagram.lower import lower

R3 = real(3)
LAWS = settings(max_examples=60, deadline=None)


@st.composite
def morphisms(draw, prefix: str, depth: int = 3):
    """A random term `Real[3] -> Real[3]` and the values of its params."""
    values: dict[str, np.ndarray] = {}
    counter = itertools.count()

    def build(level: int):
        choice = draw(st.integers(0, 5 if level > 0 else 3))
        if choice == 0:
            return prim("relu", R3, R3, in_ranks=(1,))
        if choice == 1:
            return prim("tanh", R3, R3, in_ranks=(1,))
        if choice == 2:
            c = draw(st.floats(-2, 2, allow_nan=False))
            return prim("scale", R3, R3, static=(("c", c),), in_ranks=(1,))
        if choice == 3:
            k = next(counter)
            w, b = f"{prefix}W{k}", f"{prefix}b{k}"
            rng = np.random.default_rng(draw(st.integers(0, 2**16)))
            values[w], values[b] = rng.normal(size=(3, 3)) * 0.7, rng.normal(size=3) * 0.3
            ports = (param(w, real(3, 3)), param(b, R3))
            return prim("affine", R3, R3, args=(w, b), ports=ports, in_ranks=(1, 2, 1))
        if choice == 4:
            return seq(build(level - 1), build(level - 1))
        add = prim("add", (R3, R3), R3, in_ranks=(1, 1))
        return seq(pair(build(level - 1), build(level - 1)), add)

    return build(depth), values


inputs = st.integers(0, 2**16).map(lambda seed: np.random.default_rng(seed).normal(size=(2, 3)))


def run(term, xs, values):
    return compile_diagram(lower(term)).run(xs, {}, values)


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


@LAWS
@given(morphisms("f"), morphisms("g"), morphisms("h"), inputs)
def test_associativity(f, g, h, x):
    values = {**f[1], **g[1], **h[1]}
    left = seq(seq(f[0], g[0]), h[0])
    right = seq(f[0], seq(g[0], h[0]))
    same(run(left, (x,), values), run(right, (x,), values))


@LAWS
@given(morphisms("f"), inputs)
def test_identities(f, x):
    term, values = f
    direct = run(term, (x,), values)
    same(run(seq(ident(R3), term), (x,), values), direct)
    same(run(seq(term, ident(R3)), (x,), values), direct)


@LAWS
@given(morphisms("f"), morphisms("g"), morphisms("h"), morphisms("k"), inputs, inputs)
def test_interchange(f, g, h, k, x, y):
    values = {**f[1], **g[1], **h[1], **k[1]}
    left = seq(par(f[0], g[0]), par(h[0], k[0]))
    right = par(seq(f[0], h[0]), seq(g[0], k[0]))
    same(run(left, (x, y), values), run(right, (x, y), values))


@LAWS
@given(morphisms("f"), morphisms("g"), inputs)
def test_list_functor_laws(f, g, x):
    values = {**f[1], **g[1]}
    same(run(functor("List", ident(R3)), (x,), values), (x,))
    whole = run(functor("List", seq(f[0], g[0])), (x,), values)
    same(whole, run(seq(functor("List", f[0]), functor("List", g[0])), (x,), values))
    same(whole, run(seq(f[0], g[0]), (x,), values))  # List(f) is f on the batch axis


@LAWS
@given(morphisms("f"), morphisms("g"), inputs, inputs)
def test_symmetric_monoidal_structure(f, g, x, y):
    values = {**f[1], **g[1]}
    same(run(seq(swap(R3, R3), swap(R3, R3)), (x, y), values), (x, y))
    same(run(seq(copy(R3), swap(R3, R3)), (x,), values), (x, x))
    natural_left = seq(par(f[0], g[0]), swap(R3, R3))
    natural_right = seq(swap(R3, R3), par(g[0], f[0]))
    same(run(natural_left, (x, y), values), run(natural_right, (x, y), values))


@LAWS
@given(morphisms("f"), morphisms("g"), inputs, inputs)
def test_reverse_derivative_is_functorial(f, g, x, dz):
    (f_term, f_values), (g_term, g_values) = f, g
    values = {**f_values, **g_values}
    whole = compile_diagram(lower(seq(f_term, g_term)))
    (z,), tape = whole.forward((x,), {}, values)
    composite = whole.backward(tape, (dz,), set(values) | {"inputs"})

    first, second = compile_diagram(lower(f_term)), compile_diagram(lower(g_term))
    (y,), tape_f = first.forward((x,), {}, f_values)
    (z2,), tape_g = second.forward((y,), {}, g_values)
    back_g = second.backward(tape_g, (dz,), set(g_values) | {"inputs"})
    back_f = first.backward(tape_f, back_g["inputs"], set(f_values) | {"inputs"})

    assert np.array_equal(z, z2)
    np.testing.assert_allclose(composite["inputs"][0], back_f["inputs"][0], rtol=1e-12, atol=1e-14)
    for name in f_values:
        np.testing.assert_allclose(composite[name], back_f[name], rtol=1e-12, atol=1e-14)
    for name in g_values:
        np.testing.assert_allclose(composite[name], back_g[name], rtol=1e-12, atol=1e-14)
