"""The parser's fast path (catdsl/syntax/lalr.py) builds the same AST, span for span, as Lark's
tree and Transformer, and gives up to Lark on everything else so diagnostics stay the same."""

from __future__ import annotations

import random
import re
import sys

import fuzzkit
import pytest
from conftest import REPO, TINY_TEXT

from catdsl.errors import Diagnostic, Span
from catdsl.syntax import lalr, parser
from catdsl.syntax.parser import MAX_NESTING, _nesting_error, lark_parser, parse


def lark_only(text: str, file: str = "f.cat") -> tuple[object, list[Diagnostic]]:
    """`parse` with the fast paths (the reader, the LALR driver) switched off: Lark's tree,
    then the Transformer."""

    def give_up(*args: object) -> object:
        raise lalr.GiveUp

    saved, saved_descent = parser.parse_fast, parser.descent_applies
    parser.parse_fast = give_up  # type: ignore[assignment]
    parser.descent_applies = lambda: False  # type: ignore[assignment]
    try:
        return parse(text, file)
    finally:
        parser.parse_fast = saved  # type: ignore[assignment]
        parser.descent_applies = saved_descent  # type: ignore[assignment]


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
        (str(p.relative_to(REPO)), p.read_text()) for p in sorted(REPO.glob("programs/**/*.cat"))
    ]
    for doc in sorted((REPO / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```cat\n(.*?)```", doc.read_text(), re.S)):
            found.append((f"{doc.name}#{i}", block))
    return found


@pytest.mark.parametrize("name,text", sources(), ids=lambda v: v if "/" in v or "#" in v else "")
def test_same_ast_as_lark(name: str, text: str) -> None:
    assert parse(text, "f.cat") == lark_only(text)


def test_plain_programs_take_the_fast_path() -> None:
    for path in sorted(REPO.glob("programs/*.cat")):
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
        "\ufefflet a = b \t\n\n  # trailing blanks and a comment, no newline",
        "let a = b" + " \n" * 20_000,  # a long run of blanks at the end
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
    text = TINY_TEXT
    expected = parse(text, "f.cat")
    monkeypatch.setattr(lalr, "tables", lambda lark: None)
    with pytest.raises(lalr.GiveUp):
        fast(text)
    assert parse(text, "f.cat") == expected


# -- the lexer: tokens cut by one `findall`, each text's terminal read once


def test_the_scanner_is_lark_union_without_groups() -> None:
    tables = lalr.tables(lark_parser())
    assert tables is not None  # this Lark's internals are the ones the driver reads
    assert tables.split.groups == 0
    plain = lalr._without_groups(r'(?P<A>x(y)?)|[(]"([^"\\]|\\.)*"')
    assert plain == r'(?:x(?:y)?)|[(]"(?:[^"\\]|\\.)*"'
    assert lalr._without_groups(r"[]a(]|(b)") == r"[]a(]|(?:b)"
    for unsupported in [r"a$", r"^a", r"\bx", r"(?=a)b", r"(?<!a)b", r"(a)\1", r"(?P<n>a)(?P=n)"]:
        assert lalr._without_groups(unsupported) is None, unsupported


_NAMES = [
    "letter",
    "and_x",
    "in'",
    "index",
    "id2",
    "fst_",
    "truer",
    "over1",
    "x",
    "_a",
    "A'",
    "Real",
    "f'",
    "where_",
    "natural_",
    "monoids",
]
_KEYWORDS = ["let", "and", "in", "id", "swap", "true", "over", "within", "functor", "where"]
_NUMBERS = ["0", "7", "10", "1.", ".5", "2.50", "1e3", "1E-3", "2.5e+07", "1.e2", "007"]
_STRINGS = ['"a.cat"', '"x\\"y"', '"t\\tb"', '""', '"é.npy"']
_GAPS = [" ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\f", " # note >> ( \n", "\ufeff", " \t\n "]


def _program(rng: random.Random) -> str:
    """Declarations whose tokens touch in the ways the lexer must cut alike: names that begin
    with a keyword, every form of number, strings with escapes, operators that share a first
    character (`>` `>>` `>=` `->` `|->` `=>` `==`), comments, every kind of blank, and now and
    then a keyword where a name belongs (a syntax error: both paths must report it alike)."""

    def g() -> str:
        return rng.choice(_GAPS) if rng.random() < 0.5 else ""

    def name() -> str:
        return rng.choice(_KEYWORDS) if rng.random() < 0.02 else rng.choice(_NAMES)

    def number() -> str:
        return rng.choice(_NUMBERS)

    def atom() -> str:
        choice = rng.randrange(9)
        if choice == 0:
            return number()
        if choice == 1:
            return "-" + g() + number()
        if choice == 2:
            return rng.choice(_STRINGS)
        if choice == 3:
            return rng.choice(["?", "?h", "?_x1"])
        if choice == 4:
            return f"{name()}{g()}({g()}{name()}{g()}={g()}{number()}{g()})"
        if choice == 5:
            op, close = rng.choice([("<", ">"), ("⟨", "⟩")])
            return f"{op}{g()}{name()}{g()},{g()}{name()}{g()}{close}"
        if choice == 6:
            return f"{rng.choice(['swap', 'fst'])}[{g()}{name()}{g()},{g()}{name()}{g()}]"
        if choice == 7:
            return f"[{g()}{number()}{g()},{g()}]"
        return name()

    def expr() -> str:
        out = atom()
        for _ in range(rng.randrange(4)):
            out += g() + rng.choice([">>", "*", "⊗", "×"]) + g() + atom()
        if rng.random() < 0.3:
            out = f"({g()}{out}{g()}){g()}^{g()}{rng.choice(['3', 'n'])}"
        return out

    decls = []
    for _ in range(rng.randint(1, 4)):
        kind, n, blank = rng.randrange(5), name(), rng.choice(_GAPS)
        if kind == 0:
            decls.append(f"let{blank}{n}{g()}={g()}{expr()}")
        elif kind == 1:
            arrow = rng.choice(["->", "→"])
            decls.append(f"morphism{blank}{n}{g()}:{g()}A{g()}{arrow}{g()}B{g()}={g()}{expr()}")
        elif kind == 2:
            cmp = rng.choice([">=", "<=", "==", "!=", "<", ">"])
            decls.append(f"object{blank}{n}{g()}:{g()}Real where value{g()}{cmp}{g()}-1 and finite")
        elif kind == 3:
            decls.append(f"law{blank}{n}{g()}:{g()}{expr()}{g()}=={g()}{expr()} within 1e-6")
        else:
            decls.append(f"dim{blank}{n}{g()}={g()}{rng.choice(['3', 'D'])}{g()}+{g()}1")
    ends = ["", "\n", "# end", "\n\ufeff"]
    return rng.choice(_GAPS) + rng.choice(_GAPS).join(decls) + rng.choice(ends)


def test_tricky_token_boundaries_parse_the_same() -> None:
    rng = random.Random(11)
    fast_ones = 0
    for _ in range(400):
        text = _program(rng)
        assert same(parse(text, "f.cat"), lark_only(text)), text
        try:
            fast(text)
            fast_ones += 1
        except (lalr.GiveUp, parser._LiteralError):
            pass
    assert fast_ones > 200  # most of them parse: the comparison is of the fast path
