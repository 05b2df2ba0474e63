"""The parser's fast path (catdsl/syntax/lalr.py) builds the same AST, span for span, as Lark's
tree and Transformer, and gives up to Lark on everything else so diagnostics stay the same."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import fuzzkit
import pytest

from catdsl.errors import Diagnostic, Span
from catdsl.syntax import lalr, parser
from catdsl.syntax.parser import MAX_NESTING, _nesting_error, lark_parser, parse

ROOT = Path(__file__).resolve().parent.parent


def lark_only(text: str, file: str = "f.cat") -> tuple[object, list[Diagnostic]]:
    """`parse` with the fast path switched off: Lark's tree, then the Transformer."""

    def give_up(*args: object) -> object:
        raise lalr.GiveUp

    saved = parser.parse_fast
    parser.parse_fast = give_up  # type: ignore[assignment]
    try:
        return parse(text, file)
    finally:
        parser.parse_fast = saved  # type: ignore[assignment]


def same(a: object, b: object) -> bool:
    """Equal ASTs; comparing two deep ones recurses, so with room for it."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return a == b
    finally:
        sys.setrecursionlimit(limit)


def fast(text: str) -> object:
    """The fast path's value for `text`, or GiveUp raised."""
    return lalr.parse_fast(text, lark_parser(), parser._ToAst("f.cat").builders())


def sources() -> list[tuple[str, str]]:
    found = [
        (str(p.relative_to(ROOT)), p.read_text()) for p in sorted(ROOT.glob("programs/**/*.cat"))
    ]
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```cat\n(.*?)```", doc.read_text(), re.S)):
            found.append((f"{doc.name}#{i}", block))
    return found


@pytest.mark.parametrize("name,text", sources(), ids=lambda v: v if "/" in v or "#" in v else "")
def test_same_ast_as_lark(name: str, text: str) -> None:
    assert parse(text, "f.cat") == lark_only(text)


def test_plain_programs_take_the_fast_path() -> None:
    for path in sorted(ROOT.glob("programs/*.cat")):
        assert isinstance(fast(path.read_text()), tuple), path


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "let a = (tanh)\nlet b = ((x >> y)) * z\n",  # brackets widen a passed-up tree
        "let p = (f) ^ n\nlet q = g ^ 3\n",  # a passed-up token keeps its own span
        "object O : Real where value >= -1 and finite\n",
        "law l : (a >> b) == a >> b within 1e-6\n",
        "let w(x : A, y : B) -> C = {\n  z = <x, y> >> f;\n  return z\n}\n",
        'import "a.cat"\nimport std.ml\ndata d : List[Real] = [1, -2.5, 3,]\n',
        "let s = swap[A, B] >> fst[B, A]\nlet h = ? >> ?name\n",
        "type T = (A * B) * Real[2 * D + 1, D - 1]\n",
    ],
)
def test_edge_shapes(text: str) -> None:
    assert isinstance(fast(text), tuple)
    assert parse(text, "f.cat") == lark_only(text)


def test_errors_go_to_lark() -> None:
    # a literal refused early, a syntax error later: the syntax error is the one reported
    text = "dim V = " + "9" * 500 + "\nlet a = >>\n"
    with pytest.raises(lalr.GiveUp):
        fast("let a = >>\n")
    assert parse(text, "f.cat") == lark_only(text)
    for bad in ["let a = $\n", 'import "\\x"\n', "dim V = " + "9" * 500 + "\n", "let = 1\n"]:
        module, diags = parse(bad, "f.cat")
        assert module is None and diags
        assert (module, diags) == lark_only(bad)


@pytest.mark.parametrize("calls", [1, lalr.MAX_DEPTH - 5, lalr.MAX_DEPTH + 5, 1000, 5000])
def test_deep_calls(calls: int) -> None:
    """`f()()()…` nests without brackets: deep trees go to Lark, which reads them up to its
    recursion limit and reports E0003 beyond."""
    text = "let a = f" + "()" * calls + "\n"
    if calls > lalr.MAX_DEPTH:
        with pytest.raises(lalr.GiveUp):
            fast(text)
    result = parse(text, "f.cat")
    assert same(result, lark_only(text))
    if calls >= 1000:
        assert [d.code for d in result[1]] == ["E0003"]


def test_fuzzed_programs_parse_the_same() -> None:
    seeds = fuzzkit.seed_programs()
    donors = fuzzkit.donor_programs()
    names = sorted(seeds)
    for seed in range(8):
        for kind in sorted(fuzzkit.MUTATIONS):
            text = fuzzkit.mutate(kind, seed, seeds[names[seed % len(names)]], donors)
            assert same(parse(text, "f.cat"), lark_only(text)), (kind, seed)


def _nesting_reference(text: str, file: str) -> Diagnostic | None:
    """The character-by-character scan `_nesting_error` replaced, kept to check it."""
    depth, line, col = 0, 1, 1
    in_comment = in_string = False
    for ch in text:
        if ch == "\n":
            line, col, in_comment = line + 1, 1, False
            continue
        if in_comment:
            pass
        elif in_string:
            in_string = ch != '"'
        elif ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch in "([{⟨":
            depth += 1
            if depth > MAX_NESTING:
                return Diagnostic(
                    "E0003",
                    f"brackets nested more than {MAX_NESTING} deep",
                    Span.point(file, line, col),
                    help="name the inner parts with `let` and compose the names",
                )
        elif ch in ")]}⟩":
            depth = max(depth - 1, 0)
        col += 1
    return None


def test_nesting_scan_matches_the_character_scan() -> None:
    rng = random.Random(7)
    alphabet = list('([{⟨)]}⟩#"\n ab') + ["("] * 12
    errors = 0
    for _ in range(600):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1200)))
        expected = _nesting_reference(text, "f.cat")
        errors += expected is not None
        assert _nesting_error(text, "f.cat") == expected
    assert 10 < errors < 590  # both outcomes were exercised


def test_without_usable_tables_every_parse_goes_to_lark(monkeypatch) -> None:
    """Another Lark version whose internals differ: the fast path steps aside."""
    text = (ROOT / "programs" / "tiny_ml.cat").read_text()
    expected = parse(text, "f.cat")
    monkeypatch.setattr(lalr, "tables", lambda lark: None)
    with pytest.raises(lalr.GiveUp):
        fast(text)
    assert parse(text, "f.cat") == expected
