"""`rows_times`: a batch of sequences times a matrix as one product only where no bit changes."""

from __future__ import annotations

import numpy as np
import pytest

from catdsl.std.kernels import affine_apply, affine_vjp
from catdsl.std.rowwise import flat_is_exact, rows_times

SHAPES = [
    (8, 64, 256, 100),  # whole strips of rows: the flat product is allowed where it agrees
    (8, 7, 128, 16),  # odd row counts: OpenBLAS rounds the last row of a strip differently
    (16, 3, 129, 11),
    (64, 1, 64, 8),  # one row per sequence: numpy's per-sequence product is a gemv
    (4, 2, 6, 96, 16),  # two leading axes
    (2, 3, 8, 4),  # too small to probe: numpy's product
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_times_is_numpy_matmul_bit_for_bit(shape: tuple, dtype: type) -> None:
    rng = np.random.default_rng(7)
    *lead, k, n = shape
    x = rng.standard_normal((*lead, k)).astype(dtype)
    weight = rng.standard_normal((k, n)).astype(dtype)
    for w in (weight, np.asfortranarray(weight), np.repeat(weight, 2, axis=1)[:, ::2]):
        got = rows_times(x, w)
        assert got.shape == (*lead[:-1], lead[-1], n) and got.dtype == np.dtype(dtype)
        assert np.array_equal(got, x @ w)


def test_layouts_that_cannot_be_flattened_use_numpy() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 32, 64))
    weight = rng.standard_normal((64, 5))
    strided = x[:, ::2]  # not contiguous: no flat view
    assert np.array_equal(rows_times(strided, weight), strided @ weight)
    ints = rng.integers(-5, 5, (2, 4, 3))
    assert np.array_equal(rows_times(ints, ints[0, :3]), ints @ ints[0, :3])
    mixed = rows_times(x.astype(np.float32), weight)  # promoted as numpy promotes
    assert mixed.dtype == np.float64 and np.array_equal(mixed, x.astype(np.float32) @ weight)
    assert not flat_is_exact((2, 4, 3), (3, 3), np.dtype(np.int64), "C")


def test_affine_kernels_agree_with_the_per_sequence_products() -> None:
    rng = np.random.default_rng(11)
    for lead in [(8, 64), (3, 5), (4, 1), (16, 33), (256, 1)]:
        x = rng.standard_normal((*lead, 32))
        weight, bias = rng.standard_normal((32, 24)), rng.standard_normal(24)
        expected = x @ weight
        expected += bias
        assert np.array_equal(affine_apply(x, weight, bias), expected)
        dy = rng.standard_normal((*lead, 24))
        dx, d_w, d_b = affine_vjp(x, weight, dy)
        assert np.array_equal(dx, dy @ weight.T)
        assert np.array_equal(d_w, x.reshape(-1, 32).T @ dy.reshape(-1, 24))
        assert np.array_equal(d_b, dy.reshape(-1, 24).sum(axis=0))


def test_the_probe_is_cached_per_shape() -> None:
    flat_is_exact.cache_clear()
    x = np.ones((2, 64, 64))
    weight = np.ones((64, 3))
    rows_times(x, weight)
    rows_times(x + 1, weight)
    info = flat_is_exact.cache_info()
    assert (info.misses, info.hits) == (1, 1)
