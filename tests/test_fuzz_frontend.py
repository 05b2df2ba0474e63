"""Property tests of the front end: no input escapes as anything but diagnostics.

`catdsl.loader.check_text` must return a `CheckedProgram` for *any* text: random bytes,
every truncation of a valid program, token-level mutations, absurd nesting, very long
pipelines, huge numbers, random declarations. Every diagnostic must carry a sane span and
render (as text, as JSON, and inside a `CatError`) without raising. There is no allow-list:
any exception escaping `check_text` fails the test, and so does `catdsl check` exiting 70
(the CLI's "internal error") on a mutated program.

The mutation classes of `tests/fuzzkit.py` (huge numbers, string escapes, splices of two
programs, truncations, long identifiers, deep nesting, let chains, token edits) go further:
through `catdsl.loads` and `catdsl check`, and for a program that checks, through its points
and its laws, each input within a time limit; `make fuzz` runs the classes 100,000 times.

Crashes found (and fixed) earlier are pinned by the regression tests at the end of this file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import string
import tempfile
from pathlib import Path

import fuzzkit
import pytest
from conftest import PROGRAMS
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from catdsl.cli import main
from catdsl.diagnostics import render_all, to_json
from catdsl.errors import CatError
from catdsl.loader import check_text

# Raise for a long bug hunt: CATDSL_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz_frontend.py
EXAMPLES = int(os.environ.get("CATDSL_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The tiny model with one of each other construct: a port family, a pairing, a wiring block,
# a measurement, invariants and a law tolerance; the seed of the mutation tests.
TINY_EXTENDED = """\
# tiny.cat — the tiny next-token model
import std.ml

dim V = 5
dim D = 4

object TokenId       : Index[V]
object Vector        : Real[D]
object Logits        : Real[V]
object Distribution  : Simplex[V]
object Loss          : Real where finite and value >= 0
object TokenSequence : List[TokenId] where len >= 1
type   Example       = TokenId * TokenId
object TrainingSet   : List[Example]

param E : Real[V, D] = course_init(seed = 1, scale = 0.2)
param W : Real[D, V] = course_init(seed = 2, scale = 0.2)
param b : Real[V]    = zeros

morphism Embedding      : TokenId -> Vector             = lookup(E)
morphism LinearToLogits : Vector -> Logits               = affine(W, b)
morphism Softmax        : Logits -> Distribution         = softmax
morphism CrossEntropy   : Distribution * TokenId -> Loss = nll
morphism Windowing      : TokenSequence -> TrainingSet   = windows(2)
morphism Target[target: TokenId] : Distribution -> Loss  = nll

morphism DirectPredict  : TokenId -> Distribution = lookup(E) >> affine(W, b) >> softmax

let predict = Embedding >> LinearToLogits >> Softmax
let loss : Example -> Loss = predict * TokenId >> CrossEntropy
let card = Logits >> Softmax >> Target
let both = <predict, predict> >> fst[Distribution, Distribution]
let block(x: Vector) -> Vector * Vector = { a = copy[Vector](x); return a }

data corpus : TokenSequence = [1, 2, 3, 4, 1, 2, 3, 4]
let examples = corpus >> Windowing

let step    = TrainStep(loss, examples, lr = 1.0)
let trained = step ^ 80
let loss_after = Init(loss) >> trained >> MeanLoss(loss, examples)

law composed_is_direct : Embedding >> LinearToLogits >> Softmax == DirectPredict within 1e-6
"""

_TOKEN = re.compile(
    r"\s+|#[^\n]*|\"[^\"\n]*\"|[A-Za-z_][A-Za-z0-9_']*|\d+\.\d*(?:[eE][-+]?\d+)?|\d+"
    r"|>>|->|==|<=|>=|!=|."
)
EXTENDED_TOKENS = _TOKEN.findall(TINY_EXTENDED)
WORDS = sorted({t for t in EXTENDED_TOKENS if t.strip()})


# ---------------------------------------------------------------------------- the oracle


def assert_contained(text: str, file: str = "fuzz.cat") -> list:
    """check_text returns diagnostics (never raises); each is well-formed and renders."""
    program = check_text(text, file)
    diags = program.diagnostics
    for d in diags:
        assert isinstance(d.code, str) and re.fullmatch(r"E\d{4}", d.code), d
        assert d.code != "E0000", "the internal sentinel leaked"
        assert d.message, d
        assert d.severity in ("error", "warning", "note")
        if d.span is not None:
            s = d.span
            assert s.line >= 1 and s.column >= 1, d
            assert s.end_line >= s.line, d
            assert s.end_line > s.line or s.end_column >= s.column, d
    render_all(diags, program.sources, color=False)
    render_all(diags, program.sources, color=True)
    json.loads(to_json(diags))
    if diags:
        str(CatError(list(diags), program.sources))
    return diags


# ---------------------------------------------------------------------------- random text


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data):
    assert_contained(data.decode("utf-8", errors="replace"))


@SETTINGS
@given(st.text(alphabet=string.printable + "→⊗⟨⟩∘λ\u00a0\ufeff\x00", max_size=300))
def test_random_text(text):
    assert_contained(text)


@SETTINGS
@given(st.lists(st.sampled_from([*WORDS, " ", "\n", "  ", ">>", "(", ")", "<", ">"]), max_size=60))
def test_random_token_soup(tokens):
    assert_contained(" ".join(tokens))


# ---------------------------------------------------------------------------- valid programs


def test_tiny_program_is_clean():
    assert assert_contained(TINY_EXTENDED) == []


def test_every_prefix_of_the_tiny_program():
    """Every truncation, at every character: a diagnostic or a clean (shorter) program."""
    for cut in range(len(TINY_EXTENDED) + 1):
        assert_contained(TINY_EXTENDED[:cut])


@SETTINGS
@given(st.data())
def test_prefixes_and_suffixes_of_course_programs(data):
    files = sorted(PROGRAMS.glob("*.cat"))
    path = data.draw(st.sampled_from(files))
    text = path.read_text(encoding="utf-8")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert_contained(text[:end], path.name)
    assert_contained(text[start:], path.name)


_OPS = st.tuples(st.sampled_from(["delete", "duplicate", "swap", "insert"]), st.integers(0, 10**6))


@SETTINGS
@given(st.lists(_OPS, min_size=1, max_size=5), st.sampled_from(WORDS))
def test_token_mutations_of_the_tiny_program(ops, word):
    assert_contained(_mutated(ops, word))


def _mutated(ops: list[tuple[str, int]], word: str) -> str:
    """The seed program with each (operation, position) applied to its tokens in turn."""
    tokens = list(EXTENDED_TOKENS)
    for op, k in ops:
        i = k % len(tokens)
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            j = (k // len(tokens)) % len(tokens)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens.insert(i, word)
    return "".join(tokens)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(st.lists(_OPS, min_size=1, max_size=5), st.sampled_from(WORDS))
def test_catdsl_check_of_a_mutated_program_is_never_an_internal_error(ops, word):
    """`catdsl check` answers 0 (clean) or 1 (diagnostics), never 70, and never a traceback."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.cat"
        path.write_text(_mutated(ops, word), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", str(path)])
    assert code in (0, 1), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert (code == 0) == out.getvalue().startswith(f"{path}: ok"), out.getvalue()


@SETTINGS
@given(st.integers(0, len(TINY_EXTENDED)), st.sampled_from(list('([{<⟨)]}>⟩"#=:,;*^?-')))
def test_one_stray_character(position, char):
    assert_contained(TINY_EXTENDED[:position] + char + TINY_EXTENDED[position:])


# ---------------------------------------------------------------------------- random declarations

PRELUDE = """\
import std.ml
dim V = 5
dim D = 4
dim T
dim H = 2
dim K = 3
object A : Real[V]
object B : Real[H * K]
object TokenId : Index[V]
object Vector : Real[D]
object Logits : Real[V]
object Distribution : Simplex[V]
object Loss : Real where finite
object Seq : Real[T, V]
param E : Real[V, D] = zeros
param W : Real[D, V] = course_init(seed = 2, scale = 0.2)
param b : Real[V] = zeros
morphism f : A -> A = relu
morphism g : A -> Logits = relu
morphism Embedding : TokenId -> Vector = lookup(E)
morphism Lin : Vector -> Logits = affine(W, b)
morphism Softmax : Logits -> Distribution = softmax
morphism CrossEntropy : Distribution * TokenId -> Loss = nll
morphism Target[target: TokenId] : Distribution -> Loss = nll
let loss = (Embedding >> Lin >> Softmax) * TokenId >> CrossEntropy
data d : List[TokenId * TokenId] = [[1, 2], [2, 3]]
data t : TokenId = 1
let step = TrainStep(loss, d, lr = 0.5)
"""
_NEW = ["n1", "n2", "n3", "n4", "n5", "N1", "N2", "N3", "V", "A"]  # fresh names, and two clashes
_DIMS = ["V", "D", "T", "H", "K", "5", "4", "1", "n1"]
_OBJECTS = [
    "A",
    "B",
    "TokenId",
    "Vector",
    "Logits",
    "Distribution",
    "Loss",
    "Seq",
    "N1",
    "N2",
    "N3",
]
_MORPHISMS = ["f", "g", "Embedding", "Lin", "Softmax", "CrossEntropy", "Target", "loss", "step",
              "d", "t", "n1", "n2", "n3", "n4", "n5"]  # fmt: skip
_PRIMS = ["relu", "softmax", "nll", "add", "mse", "sum", "lookup(E)", "affine(W, b)",
          "linear(W)", "windows(2)", "cross_entropy", "scale(2)", "dot(b)"]  # fmt: skip


def _dim():
    return st.one_of(
        st.sampled_from(_DIMS),
        st.builds(lambda a, op, b: f"{a} {op} {b}", st.sampled_from(_DIMS),
                  st.sampled_from(["*", "+", "-"]), st.sampled_from(_DIMS)),
    )  # fmt: skip


def _dims():
    return st.lists(_dim(), min_size=1, max_size=3).map(", ".join)


def _type():
    base = st.one_of(
        st.sampled_from([*_OBJECTS, "Real", "Nat", "Bool", "Unit"]),
        st.builds("Real[{}]".format, _dims()),
        st.builds("Index[{}]".format, _dim()),
        st.builds("Simplex[{}]".format, _dims()),
    )
    return st.recursive(
        base,
        lambda t: st.one_of(
            st.builds("List[{}]".format, t),
            st.builds("Option[{}]".format, t),
            st.builds("{} * {}".format, t, t),
            st.builds("({})".format, t),
            st.builds("Params({})".format, st.sampled_from(_MORPHISMS)),
        ),
        max_leaves=4,
    )


def _expr():
    base = st.one_of(
        st.sampled_from([*_OBJECTS, *_MORPHISMS, *_PRIMS, "?", "?h", "Unit", "3", "1.5"]),
        st.builds("id[{}]".format, _type()),
        st.builds("copy[{}]".format, _type()),
        st.builds("discard[{}]".format, _type()),
        st.builds(lambda k, a, b: f"{k}[{a}, {b}]", st.sampled_from(["swap", "fst", "snd"]),
                  _type(), _type()),
    )  # fmt: skip
    return st.recursive(
        base,
        lambda e: st.one_of(
            st.builds("{} >> {}".format, e, e),
            st.builds("{} * {}".format, e, e),
            st.builds("{} ⊗ {}".format, e, e),
            st.builds("({})".format, e),
            st.builds("<{}, {}>".format, e, e),
            st.builds("⟨{}, {}⟩".format, e, e),
            st.builds("{} ^ {}".format, e, st.sampled_from(["0", "2", "V", "T"])),
            st.builds("Init({})".format, e),
            st.builds("MeanLoss({}, {})".format, e, e),
            st.builds("TrainStep({}, {}, lr = 0.5)".format, e, e),
            st.builds("Adam({}, {}, lr = 0.1)".format, e, e),
            st.builds("List({})".format, e),
            st.builds(
                "{}[{}]".format, st.sampled_from(_MORPHISMS), st.sampled_from(["t", "d", "A"])
            ),
        ),
        max_leaves=6,
    )


_NAME = st.sampled_from(_NEW)


def _declaration():
    where = st.sampled_from(["", " where finite", " where value >= 0 and len > 1", " where foo"])
    ports = st.sampled_from(["", "[target: TokenId]", "[t: A, u: B]"])
    init = st.sampled_from(["zeros", "course_init(seed = 1, scale = 0.2)", "[1, 2]", "relu"])
    literal = st.sampled_from(["3", "[1, 2]", "[[1, 2], [2, 3]]", "1.5", "[]", "true"])
    return st.one_of(
        st.builds("dim {} = {}".format, _NAME, _dim()),
        st.builds("dim {}".format, _NAME),
        st.builds("object {} : {}{}".format, _NAME, _type(), where),
        st.builds("type {} = {}".format, _NAME, _type()),
        st.builds("param {} : {} = {}".format, _NAME, _type(), init),
        st.builds("morphism {}{} : {} -> {} = {}".format, _NAME, ports, _type(), _type(), _expr()),
        st.builds("morphism {} : {} -> {}".format, _NAME, _type(), _type()),
        st.builds("let {} = {}".format, _NAME, _expr()),
        st.builds("let {} : {} -> {} = {}".format, _NAME, _type(), _type(), _expr()),
        st.builds(
            "let {}(x: {}) -> {} = {{ a = {}(x); return {} }}".format,
            _NAME, _type(), _type(), st.sampled_from(_MORPHISMS),
            st.sampled_from(["a", "x", "<a, x>", "?", "y", "f(a)"]),
        ),
        st.builds("data {} : {} = {}".format, _NAME, _type(), literal),
        st.builds("law {} : {} == {}".format, _NAME, _expr(), _expr()),
    )  # fmt: skip


@settings(SETTINGS, max_examples=2 * EXAMPLES)
@given(st.lists(_declaration(), min_size=1, max_size=10))
def test_random_declarations(decls):
    assert_contained(PRELUDE + "\n".join(decls))


@SETTINGS
@given(st.lists(_declaration(), max_size=6))
def test_random_declarations_after_the_tiny_program(decls):
    assert_contained(TINY_EXTENDED + "\n".join(decls))


# ---------------------------------------------------------------------------- extremes

HEAD = "object A : Real[2]\nobject B : Real[2]\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HEAD + "let x = " + "(" * 10_000 + "A" + ")" * 10_000, id="parens"),
        pytest.param(HEAD + "let x = " + "(" * 10_000, id="unclosed-parens"),
        pytest.param("object C : " + "List[" * 10_000 + "Real" + "]" * 10_000, id="brackets"),
        pytest.param("object C : Real" + "[" * 10_000, id="unclosed-brackets"),
        pytest.param(HEAD + "let x = " + "<A, " * 10_000 + "A" + " >" * 10_000, id="pairings"),
        pytest.param(HEAD + "let x = " + "<" * 10_000 + "A, B" + ">" * 10_000, id="angles"),
        pytest.param(HEAD + "let x = " + "⟨A, " * 10_000 + "A" + "⟩" * 10_000, id="unicode-pair"),
        pytest.param(HEAD + "let x = " + "[" * 10_000 + "1" + "]" * 10_000, id="literal"),
        pytest.param(HEAD + "law l : " + "(A >> " * 10_000 + "A" + ")" * 10_000 + " == A",
                     id="law-parens"),
        pytest.param(HEAD + "let f(x: A) -> A = { return " + "g(" * 10_000 + "x" + ")" * 10_000
                     + " }", id="wiring-calls"),
    ],
)  # fmt: skip
def test_deep_nesting_is_a_diagnostic(text):
    diags = assert_contained(text)
    assert diags, "10,000 levels of nesting must be refused"


@pytest.mark.parametrize("depth", [50, 150, 199])
def test_moderate_nesting_checks(depth):
    text = "object C : " + "List[" * depth + "Real" + "]" * depth + "\nlet f = C >> C"
    assert assert_contained(text) == []
    text = HEAD + "let x = " + "(" * depth + "A" + ")" * depth
    assert assert_contained(text) == []


def test_long_pipeline():
    text = HEAD + "let chain = " + " >> ".join(["A"] * 20_000) + "\nlet g = chain >> B\n"
    diags = assert_contained(text)
    assert [d.code for d in diags] == ["E0201"]
    program = check_text(text.replace("\nlet g = chain >> B\n", "\n"))
    assert not program.diagnostics
    term = program.definitions["chain"].term
    assert (str(term.dom), str(term.cod)) == ("A", "A")


def test_long_product_and_long_pipeline_of_a_morphism():
    text = (
        "import std.ml\n"
        + HEAD
        + "morphism f : A -> A = relu\n"
        + "let wide = "
        + " * ".join(["f"] * 5_000)
        + "\nlet long = "
        + " >> ".join(["f"] * 5_000)
        + "\n"
    )
    assert assert_contained(text) == []


def test_long_file():
    lines = [f"object O{i} : Real[{i % 7 + 1}]" for i in range(5_000)]
    assert assert_contained("\n".join(lines)) == []


@pytest.mark.parametrize(
    "text",
    [
        "dim V = 99999999999999999999999\nobject A : Real[V]",
        "dim V = 99999999999999999999999\nobject A : Real[V, V]\nparam W : Real[V] = zeros",
        "dim V = 99999999999999999999999\nobject I : Index[V]\ndata t : I = 9999999999999999999998",
        "object A : Real[2]\nlet x = A ^ 99999999999999999999999999999",
        "object A : Real[99999999999999999999999 * 99999999999999999999999]",
        "data x : Real = 1e99999",
        "data x : Real = 99999999999999999999999999999999999999999.5",
        "import std.ml\nlet w = windows(99999999999999999999)",
        "import std.ml\nlet s = scale(1e999)",
        "law l : Unit == Unit within 1e999",
    ],
)
def test_huge_numbers(text):
    assert_contained(text)


@pytest.mark.parametrize("depth", [1, 10, 100, 199, 200, 201, 5_000])
def test_deep_list_types(depth):
    text = (
        "object T : Index[3]\nobject L : "
        + "List[" * depth
        + "T"
        + "]" * depth
        + "\nlet f = L >> L\ndata d : L = []\n"
    )
    diags = assert_contained(text)
    if depth <= 199:
        assert diags == []


def test_weird_characters_and_encodings():
    for text in [
        "\ufeff" + TINY_EXTENDED,
        TINY_EXTENDED.replace("\n", "\r\n"),
        TINY_EXTENDED.replace("    ", "\t"),
        TINY_EXTENDED.replace("\n", "\r"),
        "\x00" * 100,
        "object A : Real[2]\nlet x = A\x0c>> A",
        "object Ä : Real[2]",
        "# only a comment",
        "",
        "\n\n\n",
        '"unterminated',
        "object A : Real[2] where value >= 1e308 and value <= -1e308",
    ]:
        assert_contained(text)


# ---------------------------------------------------------------------------- fixed crashes, pinned


@pytest.mark.parametrize("text", ["law l : A", "law l : A >> B\nlaw m : A == A"])
def test_law_without_equals_is_a_diagnostic(text):
    diags = check_text(text).diagnostics
    assert diags and diags[0].code.startswith("E01")
    assert "`==`" in diags[0].message


@pytest.mark.parametrize(
    "law", ["id[Nope] == id[Nope]", "A[3] == A", "copy[2] == copy[2]", "swap[A, Nope] == A"]
)
def test_type_error_in_a_law_is_a_diagnostic(law):
    """Was a front-end bug (a TypeError_ escaped Checker.check_law); fixed in 2943b5e."""
    diags = check_text(f"object A : Real[2]\nlaw l : {law}\n").diagnostics
    assert [d.code[:3] for d in diags] == ["E04"]


@pytest.mark.parametrize("depth", [400])
def test_moderately_deep_pairings_are_a_diagnostic(depth):
    text = HEAD + "let x = " + "<A, " * depth + "A" + " >" * depth
    diags = check_text(text).diagnostics
    assert [d.code for d in diags] in ([], ["E0003"])


@pytest.mark.parametrize("k", ["0", "-1", "1.5", "99999999999999999999"])
def test_windows_size_is_validated(k):
    text = f"import std.ml\nobject S : List[Index[3]]\nlet w = S >> windows(k = {k})\n"
    diags = check_text(text).diagnostics
    assert len(diags) == 1


# ---------------------------------------------------------------------------- mutation classes
#
# Each class of `tests/fuzzkit.py` mutates the course programs; every input goes through
# `catdsl.loads` (a program or a `CatError`, nothing else), through `catdsl check` (never exit
# 70, never a traceback), and, when it checks, its points run and its laws are checked on a few
# samples. An input that takes longer than `TIME_LIMIT` seconds is a finding too (a hang).
# `make fuzz` (bench/fuzz.py) runs the same classes 100,000 times.

CLASS_EXAMPLES = int(os.environ.get("CATDSL_FUZZ_CLASS_EXAMPLES", "6"))
TIME_LIMIT = 10.0  # generous: a loaded machine must not turn a slow input into a failure
SEEDS = fuzzkit.seed_programs()
DONORS = fuzzkit.donor_programs()
CLASS_SETTINGS = settings(
    max_examples=CLASS_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
    derandomize=True,  # the same inputs every run; `make fuzz` explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class FuzzTimeout(Exception):
    """An input ran past `TIME_LIMIT`."""


@contextlib.contextmanager
def time_limit(seconds: float):
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(*_):
        raise FuzzTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_case(kind: str, name: str, seed: int) -> None:
    text = fuzzkit.mutate(kind, seed, SEEDS[name], DONORS)
    with time_limit(TIME_LIMIT):
        fuzzkit.run_text(text)
        assert_contained(text)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "fuzz.cat"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["check", str(path)])
    assert code in (0, 1, 2), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()


@pytest.mark.parametrize("kind", sorted(fuzzkit.MUTATIONS))
@CLASS_SETTINGS
@given(name=st.sampled_from(sorted(SEEDS)), seed=st.integers(0, 2**32 - 1))
def test_mutation_class(kind, name, seed):
    fuzz_case(kind, name, seed)


def test_every_mutation_class_is_fuzzed():
    tested = {"huge-number", "escape", "splice", "truncate", "long-identifier", "deep-nesting",
              "let-chain", "token"}  # fmt: skip
    assert set(fuzzkit.MUTATIONS) == tested


def test_mutations_are_reproducible():
    for kind in fuzzkit.MUTATIONS:
        first = fuzzkit.mutate(kind, 7, SEEDS["tiny_ml.cat"], DONORS)
        assert first == fuzzkit.mutate(kind, 7, SEEDS["tiny_ml.cat"], DONORS)


def test_the_seed_programs_run_their_points_and_laws():
    ran = {name: fuzzkit.run_text(text) for name, text in SEEDS.items()}
    assert all(outcome.checked for outcome in ran.values())
    assert ran["tiny_ml.cat"].points >= 3 and ran["tiny_ml.cat"].laws == 4
