"""Initialisers (the course's deterministic formula) and safe array-file loading and saving."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from catdsl.errors import CatRuntimeError
from catdsl.files import load_array_file, save_npz_atomic
from catdsl.std.init import INITIALISERS, course_init

# ---------------------------------------------------------------------------------------------
# Initialisers
# ---------------------------------------------------------------------------------------------


def test_course_init_worked_values():
    embedding = course_init((5, 4), np.float64, seed=1, scale=0.2)
    weight = course_init((4, 5), np.float64, seed=2, scale=0.2)
    assert embedding[0, 0] == pytest.approx(-0.0798, abs=1e-15)
    assert weight[0, 0] == pytest.approx((0.202 - 0.5) * 0.2, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    seed=st.integers(-5, 50),
    scale=st.floats(0.01, 2),
)
def test_course_init_is_the_formula_entrywise(rows, cols, seed, scale):
    table = course_init((rows, cols), np.float64, seed=seed, scale=scale)
    for r in range(rows):
        for c in range(cols):
            want = ((((r * cols + c) * 37 + seed * 101) % 1000) / 1000 - 0.5) * scale
            assert table[r, c] == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert np.all(np.abs(table) <= 0.5 * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_course_init_with_shared_positions_is_bit_for_bit_the_numpy_formula(dtype):
    """Params of one size share their positions (times 37); each value is still exactly the
    formula computed afresh, and a caller writing to its array leaves the others alone."""
    for shape, seed, scale in [((4, 4), 7, 0.3), ((4, 4), -3, 1), ((3,), 2**40, 2.5), ((), 0, 0.1)]:
        position = np.arange(int(np.prod(shape)), dtype=np.int64)
        want = (((position * 37 + seed * 101) % 1000) / 1000 - 0.5) * scale
        got = course_init(shape, dtype, seed=np.int64(seed), scale=scale)
        assert got.dtype == dtype and got.shape == shape
        assert got.tobytes() == want.reshape(shape).astype(dtype).tobytes()
    first = course_init((2, 3), np.float64, seed=1)
    first[...] = 9.0
    assert (
        course_init((2, 3), np.float64, seed=1).tolist()
        == course_init((6,), seed=1).reshape(2, 3).tolist()
        != first.tolist()
    )


def test_course_init_vectors_are_one_row_and_scalars_one_cell():
    vector = course_init((6,), np.float64, seed=3, scale=0.5)
    np.testing.assert_array_equal(vector, course_init((1, 6), np.float64, seed=3, scale=0.5)[0])
    scalar = course_init((), np.float64, seed=3, scale=0.5)
    assert scalar.shape == ()
    assert scalar == course_init((1, 1), np.float64, seed=3, scale=0.5)[0, 0]


@pytest.mark.parametrize("name", sorted(INITIALISERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_initialisers_give_shape_and_dtype(name, dtype):
    value = INITIALISERS[name]((3, 2), dtype)
    assert value.shape == (3, 2)
    assert value.dtype == dtype


def test_constant_and_random_initialisers():
    assert INITIALISERS["zeros"]((2,), np.float64).tolist() == [0, 0]
    assert INITIALISERS["ones"]((2,), np.float64).tolist() == [1, 1]
    normal = INITIALISERS["normal"]
    draw = normal((4,), np.float64, seed=5)
    np.testing.assert_array_equal(draw, normal((4,), np.float64, seed=5))
    assert not np.array_equal(draw, normal((4,), np.float64, seed=6))
    draws = INITIALISERS["uniform"]((1000,), np.float64, low=2.0, high=3.0, seed=1)
    assert draws.min() >= 2.0
    assert draws.max() < 3.0
    wide = normal((4000,), np.float64, mean=1.0, std=0.1, seed=0)
    assert abs(wide.mean() - 1.0) < 0.01


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("normal", {"std": -1.0}),
        ("uniform", {"low": 1.0, "high": 0.0}),
        ("course_init", {"seed": 1.5}),
        ("course_init", {"scale": float("nan")}),
    ],
)
def test_bad_initialiser_arguments(name, kwargs):
    with pytest.raises(CatRuntimeError) as info:
        INITIALISERS[name]((2,), np.float64, **kwargs)
    assert info.value.diagnostic.code == "R0404"


# ---------------------------------------------------------------------------------------------
# Loading and saving
# ---------------------------------------------------------------------------------------------


def error_code(path) -> str:
    with pytest.raises(CatRuntimeError) as info:
        load_array_file(str(path))
    return info.value.diagnostic.code


def test_load_npy_and_npz_in_file_order(tmp_path):
    np.save(tmp_path / "one.npy", np.arange(3))
    (one,) = load_array_file(str(tmp_path / "one.npy"))
    assert one.tolist() == [0, 1, 2]
    np.savez(tmp_path / "many.npz", zeta=np.ones(2), alpha=np.zeros((2, 2)), mid=np.array(5))
    arrays = load_array_file(str(tmp_path / "many.npz"))
    assert [a.shape for a in arrays] == [(2,), (2, 2), ()]


def test_missing_file(tmp_path):
    assert error_code(tmp_path / "absent.npy") == "R0501"
    assert error_code(tmp_path) == "R0501"


def test_pickled_objects_are_refused(tmp_path):
    objects = np.array([{"payload": 1}, None], dtype=object)
    np.save(tmp_path / "evil.npy", objects, allow_pickle=True)
    np.savez(tmp_path / "evil.npz", ok=np.ones(2), bad=objects)
    assert error_code(tmp_path / "evil.npy") == "R0503"
    assert error_code(tmp_path / "evil.npz") == "R0503"


@pytest.mark.parametrize(
    "content",
    [b"", b"just some text\n", b"\x93NUMPY\x01\x00garbage", b"PK\x03\x04broken zip"],
    ids=["empty", "text", "bad-npy", "bad-zip"],
)
def test_bad_formats(tmp_path, content):
    path = tmp_path / "bad.npy"
    path.write_bytes(content)
    assert error_code(path) == "R0502"


def test_save_npz_atomic_round_trip_with_any_names(tmp_path):
    path = tmp_path / "params.npz"
    arrays = {"W": np.eye(2), "file": np.arange(3.0), "allow_pickle": np.float32(1.5)}
    save_npz_atomic(str(path), arrays)
    with np.load(path, allow_pickle=False) as stored:
        assert stored.files == list(arrays)
        for name, value in arrays.items():
            np.testing.assert_array_equal(stored[name], value)
    assert [a.dtype for a in load_array_file(str(path))] == [np.float64, np.float64, np.float32]


def test_save_npz_atomic_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "params.npz"
    save_npz_atomic(str(path), {"a": np.zeros(2)})
    save_npz_atomic(str(path), {"b": np.ones(3)})
    (b,) = load_array_file(str(path))
    assert b.tolist() == [1, 1, 1]
    assert os.listdir(tmp_path) == ["params.npz"]


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "params.npz"
    save_npz_atomic(str(path), {"a": np.zeros(2)})
    with pytest.raises(CatRuntimeError) as info:
        save_npz_atomic(str(path), {"bad": np.array([object()], dtype=object)})
    assert info.value.diagnostic.code == "R0504"
    (a,) = load_array_file(str(path))
    assert a.tolist() == [0, 0]
    assert os.listdir(tmp_path) == ["params.npz"]


def test_save_into_missing_directory_makes_it(tmp_path):
    save_npz_atomic(str(tmp_path / "no" / "such" / "p.npz"), {"a": np.zeros(1)})
    (a,) = load_array_file(str(tmp_path / "no" / "such" / "p.npz"))
    assert a.tolist() == [0.0]


def test_save_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("not a directory")
    with pytest.raises(CatRuntimeError) as info:
        save_npz_atomic(str(tmp_path / "plain" / "p.npz"), {"a": np.zeros(1)})
    assert info.value.diagnostic.code == "R0504"


@settings(max_examples=20, deadline=None)
@given(
    value=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
    )
)
def test_round_trip_preserves_arrays(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("rt") / "x.npz"
    save_npz_atomic(str(path), {"x": value})
    (loaded,) = load_array_file(str(path))
    assert loaded.dtype == value.dtype
    np.testing.assert_array_equal(loaded, value)
