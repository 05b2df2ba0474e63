"""Hostile numbers, strings, literals, sizes and checkpoints: each is a diagnostic with a code
and an exit code of 1 or 2, never an internal error (70) or a traceback."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY
from diagram_kit import needs_dot

from catdsl.cli import main
from catdsl.loader import check_text
from catdsl.semantics.checkpoint import load_checkpoint, save_checkpoint

BIG = "9" * 4301  # past Python's int-string conversion limit
HUGE = "1" + "0" * 309  # 1e309: an int no float can hold
LAW_PRELUDE = "import std.ml\nobject A : Nat\nmorphism F : A -> A = relu\n"


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out, err


def codes(text: str) -> list[str]:
    return [d.code for d in check_text(text).diagnostics]


def only(text: str, code: str):
    diags = check_text(text).diagnostics
    assert [d.code for d in diags] == [code], diags
    return diags[0]


# ============================================================== numbers
@pytest.mark.parametrize(
    "text",
    [
        f"dim V = {BIG}\n",
        f"object A : Real[3]\nmorphism F : A -> A\nlet G = F ^ {BIG}\n",
        f"object A : Real where value >= {HUGE}\n",
        f"object A : Real where value >= -{HUGE}\n",
        f"import std.ml\nobject A : Real[2]\nmorphism F : A -> A = relu\n"
        f"law l : F == F within {HUGE}\n",
        f"dim V = 3\nparam W : Real[V] = course_init(scale = {HUGE})\n",
        "dim V = 3\nparam W : Real[V] = normal(std = 1e999)\n",
        f"dim V = 3\nobject A : Real[{HUGE}]\n",
        f"{LAW_PRELUDE}law l over [0, {BIG}] : F == F\n",
        f"{LAW_PRELUDE}law l over [{BIG}, 1] : F == F\n",
    ],
)
def test_numbers_no_real_can_hold_are_refused_at_the_literal(text):
    diag = only(text, "E0108")
    assert "out of range" in diag.message and "1.8e308" in diag.message
    assert diag.span is not None and diag.span.line == text.count("\n")


def test_the_learning_rate_beyond_floats_is_refused(capsys, tmp_path):
    text = Path(TINY).read_text().replace("lr = 1.0", f"lr = {HUGE}")
    path = tmp_path / "lr.cat"
    path.write_text(text)
    code, _, err = cli(capsys, "check", path)
    assert code == 1 and "error[E0108]" in err


def test_the_long_number_is_shown_cut():
    diag = only(f"dim V = {BIG}\n", "E0108")
    assert "(4301 characters)" in diag.message and len(diag.message) < 200


def test_cli_exits_1_for_a_huge_dim(capsys, tmp_path):
    path = tmp_path / "big.cat"
    path.write_text(f"dim V = {BIG}\n")
    code, _, err = cli(capsys, "check", path)
    assert code == 1 and "big.cat:1:9: error[E0108]" in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dim V = 9223372036854775808\n", "dim `V` must be from 1 to 9223372036854775807"),
        ("dim V = 9223372036854775807\ndim W = V * V\n", "dim `W` must be from 1"),
        ("object A : Real[9223372036854775808]\n", "an axis of a carrier must be from 1"),
        (
            "dim V = 3037000500\nobject A : Real[V * V * V]\n",
            "an axis of a carrier must be from 1",
        ),
        (
            "import std.ml\nobject A : Real[3]\nmorphism F : A -> A = relu\n"
            f"let G = F ^ {'9' * 300}\n",
            "the exponent of `^` must be at most 9223372036854775807 (2^63 - 1), not about 10^",
        ),
        (
            "dim V = 3\nparam W : Real[V] = course_init(seed = 467440737095516162)\n",
            "`course_init`'s `seed` must be a whole number from 0 to 4294967295",
        ),
        ("dim V = 3\nparam W : Real[V] = normal(seed = -1)\n", "`normal`'s `seed`"),
        ("dim V = 3\nparam W : Real[V] = uniform(seed = 2.5)\n", "not 2.5"),
    ],
)
def test_numbers_beyond_their_use_are_range_errors(text, fragment):
    diag = only(text, "E0418")
    assert fragment in diag.message
    assert diag.span is not None


def test_seed_at_the_top_of_its_range_runs(capsys, tmp_path):
    path = tmp_path / "seed.cat"
    path.write_text(
        "dim V = 3\nobject A : Real[V]\nparam W : Real[V] = course_init(seed = 4294967295)\n"
        "data w : A = [1, 2, 3]\n"
    )
    code, _, err = cli(capsys, "run", path, "w")
    assert code == 0, err


# ============================================================== strings
@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ('import "\\x"\n', "E0109", 9),
        ('data d : Real = load("\\N{nope}.npy")\n', "E0109", 23),
        ('import "\\0"\n', "E0109", 9),
        ('data d : Real = load("\\0.npz")\n', "E0109", 23),
        ('data d : Real = load("a\\qb.npy")\n', "E0109", 24),
        ('data d : Real = load("é\\t.npy")\n', "E0110", 22),
        ('data d : Real = load("a\\n.npy")\n', "E0110", 22),
        ('import "a\x00b.cat"\n', "E0110", 8),
        ('data d : Real = load("a\x1bb.npy")\n', "E0110", 22),
    ],
)
def test_bad_strings_are_refused_where_they_are(text, code, column):
    diag = only(text, code)
    assert diag.span is not None and diag.span.column == column


def test_escapes_that_exist_are_decoded(tmp_path):
    (tmp_path / 'we"ird\\é.npy').write_bytes(b"")
    np.save(tmp_path / 'we"ird\\é.npy', np.array(2.0))
    path = tmp_path / "p.cat"
    path.write_text('object A : Real\ndata d : A = load("we\\"ird\\\\é.npy")\n', encoding="utf-8")
    from catdsl.loader import check_file

    program = check_file(str(path))
    assert program.diagnostics == []
    (term,) = [d.term for d in program.definitions.values() if d.name == "d"]
    assert term.path == str(tmp_path / 'we"ird\\é.npy')


def test_a_utf8_path_is_read_as_text():
    from catdsl.syntax.parser import parse

    module, diags = parse('data d : Real = load("é.npy")\n', "x.cat")
    assert diags == [] and module is not None
    assert module.items[0].value.args[0].value.value == "é.npy"


# ============================================================== line endings
def test_cr_only_line_endings_are_line_breaks(capsys, tmp_path):
    path = tmp_path / "cr.cat"
    path.write_bytes(
        b"# a comment\rdim V = 3\robject A : Real[V]\rlet f = A >> A\rlet g = A >> B\r"
    )
    code, _, err = cli(capsys, "check", path)
    assert code == 1
    assert "cr.cat:5:14: error[E0306]: unknown name `B`" in err
    assert "5 | let g = A >> B" in err
    path.write_bytes(b"# a comment\rdim V = 3\robject A : Real[V]\rlet f = A >> A\r")
    code, out, _ = cli(capsys, "check", path)
    assert code == 0 and "ok (1 definition" in out


# ============================================================== sizes
def test_a_param_over_the_memory_budget_is_refused_at_check_time():
    diag = only("dim V = 10000000000\nparam E : Real[V, V] = zeros\n", "E0419")
    assert diag.message.startswith("param `E` of `Real[V, V]` (with V = 10000000000) holds")
    assert "more than the memory budget of 2 GiB" in diag.message
    assert diag.span is not None and (diag.span.line, diag.span.column) == (2, 11)


def test_loaded_data_over_the_budget_is_refused():
    diag = only('dim V = 100000\ndata d : Real[V, V] = load("d.npy")\n', "E0419")
    assert "data `d`" in diag.message


def test_the_budget_is_configurable(monkeypatch):
    text = "dim V = 1000\nparam E : Real[V, V] = zeros\n"  # 8 MB
    assert codes(text) == []
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", "1M")
    assert codes(text) == ["E0419"]
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", "8MB")
    assert codes(text) == []
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", "7.5MB")
    assert codes(text) == ["E0419"]


@pytest.mark.parametrize("setting", ["lots", "-5", "0", "12 parsecs"])
def test_a_bad_budget_setting_is_a_usage_error(capsys, monkeypatch, setting):
    monkeypatch.setenv("CATDSL_MEMORY_BUDGET", setting)
    code, _, err = cli(capsys, "check", TINY)
    assert code == 2 and "CATDSL_MEMORY_BUDGET" in err


def test_laws_on_a_huge_free_size_do_not_allocate_it(capsys, tmp_path):
    path = tmp_path / "laws.cat"
    path.write_text(
        "import std.ml\ndim V = 1000000000\nobject A : Real[V]\n"
        "morphism F : A -> A = relu\nlaw idem : F >> F == F\n"
    )
    code, out, err = cli(capsys, "laws", path)
    assert code == 1
    assert "R0417" in out + err and "memory budget" in out + err


def test_a_law_over_the_memory_budget_fails_alone(capsys, tmp_path):
    """R0417 while drawing one law's samples fails that law; the others are still checked."""
    path = tmp_path / "laws.cat"
    path.write_text(
        "import std.ml\ndim V = 1000000000\nobject A : Real[V]\nobject B : Real[3]\n"
        "morphism F : A -> A = relu\nmorphism G : B -> B = relu\n"
        "law huge : F >> F == F\nlaw small : G >> G == G\n"
    )
    code, out, _ = cli(capsys, "laws", path, "--json")
    assert code == 1
    huge, small = json.loads(out)
    assert (huge["name"], huge["holds"], huge["max_error"]) == ("huge", False, None)
    assert huge["failure"].startswith("R0417: a sample of `Real[V]` (with V = 1000000000)")
    assert (small["name"], small["holds"], small["max_error"]) == ("small", True, 0.0)
    assert small["samples"] == 16 and small["failure"] is None


# ============================================================== literals
def test_a_literal_must_fit_a_product_object():
    text = "object T : Index[3]\nobject Pair : T * T\ndata q : Pair = 0\n"
    diag = only(text, "E0415")
    assert diag.message == "`q : Pair` needs 2 components, one per wire of `Pair` = `T * T`"
    assert codes(text.replace("= 0", "= [1, 2]")) == []
    assert codes(text.replace("= 0", "= [1, 3]")) == ["E0416"]
    assert codes(text.replace("= 0", "= [1, 2, 0]")) == ["E0415"]


def test_a_product_object_literal_runs(capsys, tmp_path):
    path = tmp_path / "pair.cat"
    path.write_text("object T : Index[3]\nobject Pair : T * T\ndata q : Pair = [1, 2]\n")
    code, out, _ = cli(capsys, "run", path, "q")
    assert code == 0 and "(1, 2)" in out


@pytest.mark.parametrize("suffix", [".dot", pytest.param(".svg", marks=needs_dot)])
def test_a_product_data_point_draws(capsys, tmp_path, suffix):
    path = tmp_path / "pair.cat"
    path.write_text("object TokenId : Index[4]\ndata pair : TokenId * TokenId = [1, 2]\n")
    out_file = tmp_path / f"out{suffix}"
    code, _, err = cli(capsys, "draw", path, "pair", "-o", out_file)
    assert code == 0, err
    assert out_file.exists()


# ============================================================== --input and --params
ID = "dim V = 3\nobject A : Real[V]\nobject I : Index[V]\nlet f = A >> A\nlet g = I >> I\n"


@pytest.fixture
def ident(tmp_path) -> Path:
    path = tmp_path / "id.cat"
    path.write_text(ID)
    return path


def test_deeply_nested_input_is_a_usage_error(capsys, ident):
    code, _, err = cli(capsys, "run", ident, "f", "--input", "[" * 1000 + "]" * 1000)
    assert code == 2 and "nested 1000 deep: at most 64" in err
    code, _, err = cli(capsys, "run", ident, "f", "--port", "x=" + "[" * 100 + "]" * 100)
    assert code == 2 and "nested 100 deep" in err


def test_brackets_inside_strings_do_not_count(capsys, ident):
    code, _, err = cli(capsys, "run", ident, "f", "--input", '"' + "[" * 100 + '"')
    assert code == 1 and "R0416" in err


def test_a_huge_input_number_is_a_usage_error(capsys, ident):
    code, _, err = cli(capsys, "run", ident, "f", "--input", "9" * 5001)
    assert code == 2 and "out of range" in err and "(5001 characters)" in err
    code, _, err = cli(capsys, "run", ident, "f", "--input", f"[1, 2, {HUGE}]")
    assert code == 2 and "out of range" in err


def test_whole_input_numbers_beyond_64_bits_are_not_indices(capsys, ident):
    code, _, err = cli(capsys, "run", ident, "g", "--input", "[1, 2, " + "9" * 30 + "]")
    assert code == 1 and "R0416" in err
    code, out, _ = cli(capsys, "run", ident, "f", "--input", "[1, 2, " + "9" * 30 + "]")
    assert code == 0 and "e+30" in out


def test_complex_params_are_refused(capsys, tmp_path):
    path = tmp_path / "p.cat"
    path.write_text(
        "dim V = 3\nobject A : Real[V]\nparam W : Real[V] = zeros\ndata w : A = [1, 2, 3]\n"
    )
    np.savez(tmp_path / "c.npz", W=np.array([1 + 2j, 0, 0]))
    with _no_warnings():
        code, _, err = cli(capsys, "run", path, "w", "--params", tmp_path / "c.npz")
    assert code == 1
    assert "error[E0802]: `W` in" in err and "holds complex numbers" in err
    np.savez(tmp_path / "s.npz", W=np.array(["a", "b", "c"]))
    code, _, err = cli(capsys, "run", path, "w", "--params", tmp_path / "s.npz")
    assert code == 1 and "E0802" in err


def _no_warnings():
    import warnings

    class Guard:
        def __enter__(self):
            self.ctx = warnings.catch_warnings()
            self.ctx.__enter__()
            warnings.simplefilter("error")

        def __exit__(self, *exc):
            self.ctx.__exit__(*exc)
            return False

    return Guard()


# ============================================================== checkpoints
def train(capsys, ckpt: Path, steps: int = 3) -> tuple[int, str, str]:
    return cli(capsys, "train", TINY, "step", "--steps", steps, "--checkpoint", ckpt)


def refused(capsys, ckpt: Path, fragment: str) -> None:
    code, _, err = train(capsys, ckpt)
    assert code == 1, err
    assert f"error[R0607]: cannot read checkpoint `{ckpt}`" in err
    assert fragment in err


@pytest.fixture
def saved(capsys, tmp_path) -> Path:
    ckpt = tmp_path / "s.npz"
    assert train(capsys, ckpt, 2)[0] == 0
    return ckpt


def rewrite(path: Path, **changes: np.ndarray | None) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    for key, value in changes.items():
        name = f"__{key}__"
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    np.savez(path, **arrays)


def test_an_empty_checkpoint_is_refused(capsys, tmp_path):
    ckpt = tmp_path / "s.npz"
    ckpt.write_bytes(b"")
    refused(capsys, ckpt, "the file is empty")


def test_a_npy_checkpoint_is_refused(capsys, tmp_path):
    ckpt = tmp_path / "s.npz"
    with open(ckpt, "wb") as f:
        np.save(f, np.zeros(3))
    refused(capsys, ckpt, "a .npy file")


def test_a_flipped_compression_method_is_refused(capsys, saved):
    data = bytearray(saved.read_bytes())
    # every local header (PK\3\4) and central entry (PK\1\2) names its method
    for magic, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (at := data.find(magic, start)) >= 0:
            data[at + offset] ^= 0x40
            start = at + 4
    saved.write_bytes(bytes(data))
    refused(capsys, saved, "compression method")


def test_a_corrupt_member_is_refused(capsys, saved):
    data = bytearray(saved.read_bytes())
    data[len(data) // 3] ^= 0xFF
    saved.write_bytes(bytes(data))
    code, _, err = train(capsys, saved)
    assert code == 1 and "R0607" in err


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"step": np.array(-50, dtype=np.int64)}, "`__step__` must be 0 or more, not -50"),
        ({"step": np.array(2.5)}, "`__step__` must be one whole number"),
        ({"step": np.array([1, 2])}, "`__step__` must be one whole number"),
        ({"step": np.array("3")}, "`__step__` must be one whole number"),
        ({"step": None}, "no `__step__` entry"),
        ({"losses": np.array("x")}, "`__losses__` must be a list of numbers"),
        ({"losses": np.zeros((2, 2))}, "`__losses__` must be a list of numbers"),
        ({"layout": np.array("{not json")}, "`__layout__` is not valid JSON"),
        ({"layout": np.array('{"a": 1}')}, "`__layout__` must be a JSON list"),
        ({"layout": np.array('[{"array": "nope"}]')}, "names an array `nope`"),
        ({"layout": np.array('[{"array": "__step__"}]')}, "names an array `__step__`"),
        ({"layout": np.array('[{"bogus": 1}]')}, "malformed `bogus` entry"),
        ({"layout": np.array('[{"dict": 1}]')}, "malformed `dict` entry"),
        ({"layout": np.array("[5]")}, "not one of dict, tuple, none, array"),
        ({"layout": np.array("[" + '{"tuple": [' * 100 + "]}" * 100 + "]")}, "nested more"),
        ({"layout": np.array("[" * 100000 + "]" * 100000)}, "not valid JSON"),
        ({"layout": np.array(3)}, "`__layout__` must be one JSON string"),
        ({"identity": np.array(7)}, "`__identity__` must be one string"),
    ],
)
def test_hand_made_entries_are_refused(capsys, saved, change, fragment):
    rewrite(saved, **change)
    refused(capsys, saved, fragment)


def test_a_layout_of_another_shape_is_refused(capsys, saved):
    rewrite(saved, layout=np.array('[{"none": true}]'))
    code, _, err = train(capsys, saved)
    assert code == 1 and "does not fit the state" in err


def test_a_member_claiming_a_huge_shape_is_refused(capsys, saved):
    header = np.lib.format.header_data_from_array_1_0(np.zeros(3))
    header["shape"] = (10**11,)
    buf = bytearray()
    import io

    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, header)
    buf += stream.getvalue() + np.zeros(3).tobytes()
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("huge.npy", bytes(buf))
    refused(capsys, saved, "member `huge.npy` claims 800000000000 bytes of data but holds")


def test_a_non_npy_member_is_refused(capsys, saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("notes.txt", "hello")
    refused(capsys, saved, "member `notes.txt` is not a .npy array")


def test_a_garbled_npy_header_is_refused(capsys, saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("bad.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 10) + b"{garbage}\n")
    refused(capsys, saved, "member `bad.npy` has no valid .npy header")


def test_object_members_are_refused(capsys, saved):
    import io

    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("obj.npy", stream.getvalue() + b"\0" * 8)
    refused(capsys, saved, "holds Python objects")


def test_a_good_checkpoint_round_trips(tmp_path):
    state = ({"W": np.arange(3.0), "b": None}, (np.ones(2), np.zeros((1, 2))))
    save_checkpoint(tmp_path / "c.npz", state, 7, [1.0, 0.5], "abc")
    loaded, step, losses, identity = load_checkpoint(tmp_path / "c.npz")
    assert step == 7 and losses == [1.0, 0.5] and identity == "abc"
    assert np.array_equal(loaded[0]["W"], state[0]["W"]) and loaded[0]["b"] is None
    assert json.dumps(str(type(loaded[1]))) and len(loaded[1]) == 2


def test_whole_literals_beyond_64_bits_are_reals(capsys, tmp_path):
    big = "1" + "0" * 300
    path = tmp_path / "lit.cat"
    path.write_text(
        f"object S : Real\nobject T : Index[3]\ndata x : S = {big}\ndata y : S = -{big}\n"
    )
    code, out, err = cli(capsys, "run", path, "x")
    assert code == 0 and "1e+300" in out, err
    assert codes(f"object T : Index[3]\ndata t : T = {big}\n") == ["E0415"]


@pytest.mark.parametrize("seed", ["-1", "4294967296", "9" * 5000, "x"])
def test_a_bad_seed_on_the_command_line_is_bad_usage(capsys, seed):
    code, _, err = cli(capsys, "laws", TINY, "--seed", seed)
    assert code == 2 and "--seed" in err
    code, _, err = cli(capsys, "gradcheck", TINY, "loss", "--seed", seed)
    assert code == 2 and "--seed" in err


def test_a_form_feed_shows_the_line_the_parser_counted(capsys, tmp_path):
    path = tmp_path / "ff.cat"
    path.write_bytes(b"object A : Real[2]\x0clet x = A >> B\n")
    code, _, err = cli(capsys, "check", path)
    assert code == 1
    assert "ff.cat:1:33: error[E0306]" in err
    assert "1 | object A : Real[2] let x = A >> B\n  |" + " " * 33 + "^" in err


def test_gradcheck_on_a_huge_size_does_not_allocate_it(capsys, tmp_path):
    path = tmp_path / "g.cat"
    path.write_text(
        "import std.ml\ndim V = 1000000000\nobject A : Real[V]\nmorphism F : A -> A = tanh\n"
    )
    code, out, err = cli(capsys, "gradcheck", path, "F")
    assert code == 1
    assert "R0417" in out + err and "7.45 GiB" in out + err


def test_a_long_source_line_is_shown_cut_around_its_span(capsys, tmp_path):
    path = tmp_path / "big.cat"
    path.write_text(f"dim V = {BIG}\n")
    _, _, err = cli(capsys, "check", path)
    assert len(err) < 1000
    shown = [line for line in err.splitlines() if line.startswith("1 |")]
    assert shown and shown[0].endswith("…") and len(shown[0]) < 200
    path.write_text("object A : Real[2]\nlet f = " + "A >> " * 60 + "B\n")
    _, _, err = cli(capsys, "check", path)
    lines = err.splitlines()
    (row,) = [i for i, line in enumerate(lines) if line.startswith("2 |")]
    assert lines[row].index("B") == lines[row + 1].index("^")
