"""The recursive-descent reader (catdsl/syntax/descent.py) builds the AST the LALR driver and
Lark build, node for node and span for span, and gives up on everything else, so that what
`parse` returns, diagnostics included, is what it returned before the reader existed."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from itertools import accumulate

import fuzzkit
import pytest
from conftest import REPO as ROOT
from conftest import TINY_TEXT
from lark.exceptions import UnexpectedInput
from test_parser_fast import same

from catdsl.errors import Diagnostic
from catdsl.syntax import descent, lalr, parser
from catdsl.syntax.parser import grammar_path, lark_parser, parse

Parsed = tuple[object, list[Diagnostic]]


def without_descent(text: str) -> Parsed:
    """`parse` as it was before the reader: the LALR driver, then Lark."""
    saved = parser.descent_applies
    parser.descent_applies = lambda: False  # type: ignore[assignment]
    try:
        return parse(text, "f.cat")
    finally:
        parser.descent_applies = saved


def read(text: str) -> tuple[object, ...] | None:
    """The reader's items for `text` (its line ends made "\n" first, as `parse` makes them),
    or None when it gives up."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return descent.read_module(text, "f.cat")
    except lalr.GiveUp:
        return None


def agrees(text: str) -> bool:
    """Check `text`: what the reader reads (when it does not give up) is the module `parse`
    returned before the reader, and `parse` now returns it. Whether the reader read it.

    When the reader gives up, `parse` goes on as it did before the reader
    (`test_what_the_reader_hands_on`)."""
    items = read(text)
    if items is None:
        return False
    # `parse` tries the reader before the nesting check: what it reads is never too deep
    assert parser._nesting_error(text, "f.cat") is None
    module, diagnostics = without_descent(text)
    assert module is not None and not diagnostics, text
    assert same(items, module.items), text  # type: ignore[attr-defined]
    # `==` takes 1 for 1.0 and True, and 0.0 for -0.0: their reprs tell them apart
    assert repr(items) == repr(module.items), text  # type: ignore[attr-defined]
    assert same(parse(text, "f.cat"), (module, [])), text
    return True


def read_iff_parsed(text: str) -> bool:
    """`agrees(text)`, and the reader reads `text` exactly when the driver parses it: for
    texts with nothing the reader hands on by design (deep nesting, escapes, huge numbers), a
    give-up is a parse error. Whether it parsed."""
    module, diagnostics = without_descent(text)
    parsed = module is not None and not diagnostics
    assert agrees(text) == parsed, text
    return parsed


# -- every program of the repository


def corpus() -> list[tuple[str, str]]:
    """Every `.cat` file (programs, exercises, the standard library's sketches, benchmarks)
    and every `cat` code block of the docs."""
    found = [
        (str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
        for p in sorted(ROOT.rglob("*.cat"))
        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    ]
    for doc in sorted((ROOT / "docs").rglob("*.md")):
        blocks = re.findall(r"```cat\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
        found += [(f"{doc.relative_to(ROOT)}#{i}", block) for i, block in enumerate(blocks)]
    return found


CORPUS = corpus()


def test_the_corpus_is_the_repository() -> None:
    names = {name for name, _ in CORPUS}
    assert "catdsl/std/sketches.cat" in names
    assert any(name.startswith("exercises/") for name in names)
    assert any(name.startswith("programs/errors/") for name in names)
    assert sum("#" in name for name in names) > 20  # the docs' code blocks


@pytest.mark.parametrize("name,text", CORPUS, ids=[name for name, _ in CORPUS])
def test_same_result_on_every_program(name: str, text: str) -> None:
    agrees(text)


def test_the_reader_reads_the_well_formed_programs() -> None:
    """The programs that parse are read by the reader itself, not handed on."""
    read_by_it = {name for name, text in CORPUS if read(text) is not None}
    parsed = {name for name, text in CORPUS if parse(text, "f.cat")[0] is not None}
    assert read_by_it <= parsed
    missed = sorted(parsed - read_by_it)
    # only what nests deeper than the reader's room, or holds an escaped string, is missed
    for name in missed:
        text = dict(CORPUS)[name]
        assert "\\" in text or text.count("(") + text.count("[") > descent.ROOM, name
    assert len(read_by_it) > 0.9 * len(parsed)
    assert "catdsl/std/sketches.cat" in read_by_it
    assert {f"programs/{p.name}" for p in ROOT.glob("programs/*.cat")} <= read_by_it


# -- mutated programs: the reader reads the same or gives up


@pytest.mark.parametrize("kind", sorted(fuzzkit.MUTATIONS))
def test_mutated_programs(kind: str) -> None:
    seeds = fuzzkit.seed_programs()
    donors = fuzzkit.donor_programs()
    names = sorted(seeds)
    for seed in range(12):
        text = fuzzkit.mutate(kind, seed, seeds[names[seed % len(names)]], donors)
        agrees(text)


def test_token_edits_of_every_program() -> None:
    """Each program with a token deleted, doubled, swapped with the next, or replaced: where
    the edit leaves a program, the reader reads what the driver builds; where it does not,
    the reader gives up and `parse` reports what it reported before."""
    rng = random.Random(5)
    read_ok = gave_up = 0
    for _, text in CORPUS:
        cuts = _LEX.findall(text)
        spots = [i for i, tok in enumerate(cuts) if not tok.isspace() and tok[0] != "#"]
        for _ in range(4 if len(text) < 20_000 else 1):
            i = rng.choice(spots) if spots else 0
            edited = list(cuts) or [""]
            edit = rng.randrange(4)
            if edit == 0:
                del edited[i]
            elif edit == 1:
                edited.insert(i, edited[i] + " ")
            elif edit == 2 and i + 2 < len(edited):
                edited[i], edited[i + 2] = edited[i + 2], edited[i]
            else:
                edited[i] = rng.choice(_ANY_TOKEN)
            if agrees("".join(edited)):
                read_ok += 1
            else:
                gave_up += 1
    assert read_ok > 50 and gave_up > 150  # both outcomes were exercised


_LEX = re.compile(r"\s+|#[^\n]*|\"[^\"\n]*\"|[A-Za-z_][A-Za-z0-9_']*|\d+\.?\d*|>>|->|.")
_ANY_TOKEN = [
    *["(", ")", "[", "]", "{", "}", "<", ">", "⟨", "⟩", ",", ":", ";", "=", ".", "-", "+"],
    *["*", "^", "⊗", "×", "?", "->", "→", ">>", "==", "<=", ">=", "!=", "=>", "⇒", "|->", "↦"],
    *["let", "law", "and", "in", "where", "over", "within", "id", "swap", "true", "functor"],
    *["monoidal", "return"],
    *["x", "A'", "_y", "0", "12", "2.5", "1e3", ".5", '"p.cat"', "?h"],
    *["$", "!", "|", '"', "é", "٣", "²", "\x00", "\t", "\n", "#"],
]


# -- generated programs: every production, laid out in every way


_NAMES = ["a", "B", "x1", "f'", "_t", "Real", "List", "letter", "index", "and_", "idx"]
_WORDS = ["functor", "natural", "monoid", "preorder"]
_GAPS = [" ", " ", " ", "  ", "\t", "\n", "\n\n  ", " # c >> ( \n", "\ufeff", "\r\n", "\f"]


class _Program:
    """A random program of the grammar, as a list of tokens; `text` lays them out."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.out: list[str] = []

    def emit(self, *tokens: str) -> None:
        self.out += tokens

    def name(self) -> None:
        self.emit(self.rng.choice(_NAMES))

    def sep(self, items: Callable[[], None], low: int = 1, high: int = 3) -> None:
        for k in range(self.rng.randint(low, high)):
            if k:
                self.emit(",")
            items()

    def type_expr(self, depth: int = 0) -> None:
        rng = self.rng
        for k in range(1 if depth else rng.choice([1, 1, 1, 2, 3])):
            if k:
                self.emit(rng.choice(["+", "-"]))
            for m in range(1 if depth > 1 else rng.choice([1, 1, 2, 3])):
                if m:
                    self.emit(rng.choice(["*", "⊗", "×"]))
                self.type_atom(depth)

    def type_atom(self, depth: int) -> None:
        rng = self.rng
        choice = rng.randrange(6) if depth < 2 else rng.choice([0, 4])
        if choice in (0, 1):
            self.name()
        elif choice == 2:
            self.name()
            self.emit("[")
            self.sep(lambda: self.type_expr(depth + 1))
            self.emit("]")
        elif choice == 3:
            self.name()
            self.emit("(")
            if rng.random() < 0.8:
                self.sep(lambda: self.call_arg(depth + 1))
            self.emit(")")
        elif choice == 4:
            self.emit(rng.choice(["0", "3", "16"]))
        else:
            self.emit("(")
            self.type_expr(depth + 1)
            self.emit(")")

    def call_arg(self, depth: int) -> None:
        if self.rng.random() < 0.4:
            self.name()
            self.emit("=")
        self.expr(depth)

    def expr(self, depth: int = 0) -> None:
        rng = self.rng
        for k in range(1 if depth > 1 else rng.choice([1, 1, 2, 3])):
            if k:
                self.emit(">>")
            for m in range(1 if depth > 1 else rng.choice([1, 1, 2])):
                if m:
                    self.emit(rng.choice(["*", "⊗", "×"]))
                self.power(depth)

    def power(self, depth: int) -> None:
        rng = self.rng
        self.atom(depth)
        for _ in range(rng.choice([0, 0, 0, 1, 2]) if depth < 2 else 0):
            if rng.random() < 0.5:
                self.emit("(")
                if rng.random() < 0.8:
                    self.sep(lambda: self.call_arg(depth + 1))
                self.emit(")")
            else:
                self.emit("[")
                self.sep(lambda: self.type_expr(depth + 1))
                self.emit("]")
        if rng.random() < 0.15:
            self.emit("^", rng.choice(["2", "10", "n", "D"]))

    def atom(self, depth: int) -> None:
        rng = self.rng
        choice = rng.randrange(12) if depth < 2 else rng.choice([0, 5, 6, 7])
        if choice in (0, 1):
            self.name()
        elif choice == 2:
            self.emit("and")
        elif choice == 3:
            self.emit("(")
            self.expr(depth + 1)
            self.emit(")")
        elif choice == 4:
            self.emit(rng.choice(["<", "⟨"]))
            self.sep(lambda: self.expr(depth + 1), 2, 3)
            self.emit(rng.choice([">", "⟩"]))
        elif choice == 5:
            self.emit(rng.choice(["?", "?h", "?_x1"]))
        elif choice == 6:
            self.emit(rng.choice(["0", "7", "2.5", ".5", "1e3", "1.E-2", "3e+07"]))
        elif choice == 7:
            self.emit("-", rng.choice(["1", "0.25", "0"]))
        elif choice == 8:
            self.emit(rng.choice(['"a.cat"', '""', '"é/x.npy"']))
        elif choice == 9:
            self.emit(rng.choice(["true", "false"]))
        elif choice == 10:
            self.emit(rng.choice(["id", "swap", "copy", "discard", "fst", "snd"]), "[")
            self.sep(lambda: self.type_expr(depth + 1))
            self.emit("]")
        else:
            self.emit("[")
            if rng.random() < 0.8:
                self.sep(lambda: self.expr(depth + 1), 1, 3)
            if rng.random() < 0.3:
                self.emit(",")
            self.emit("]")

    def arrow(self) -> None:
        self.emit(self.rng.choice(["->", "→"]))

    def declaration(self) -> None:
        rng = self.rng
        kind = rng.randrange(16)
        if kind == 0:
            self.emit("import")
            if rng.random() < 0.3:
                self.emit('"lib/a.cat"')
            else:
                self.name()
                for _ in range(rng.randrange(3)):
                    self.emit(".")
                    self.name()
        elif kind == 1:
            self.emit("dim")
            self.name()
            if rng.random() < 0.7:
                self.emit("=")
                self.type_expr()
        elif kind == 2:
            self.emit("object")
            self.name()
            self.emit(":")
            self.type_expr()
            if rng.random() < 0.5:
                self.emit("where")
                start = len(self.out)
                self.sep(self.predicate, 1, 3)  # joined by "and", not ","
                self.out[start:] = ["and" if t == "," else t for t in self.out[start:]]
        elif kind == 3:
            self.emit("object")
            self.name()
            self.emit(":")
            self.name()
            for _ in range(rng.randint(1, 3)):
                self.emit("<")
                self.name()
        elif kind == 4:
            self.emit("type")
            self.name()
            self.emit("=")
            self.type_expr()
        elif kind == 5:
            self.emit("param")
            self.name()
            self.emit(":")
            self.type_expr()
            self.emit("=")
            self.expr()
        elif kind == 6:
            self.emit("morphism")
            self.name()
            if rng.random() < 0.4:
                self.emit("[")
                self.sep(self.port)
                self.emit("]")
            self.emit(":")
            self.type_expr()
            self.arrow()
            self.type_expr()
            if rng.random() < 0.7:
                self.emit("=")
                self.expr()
        elif kind == 7:
            self.emit("let")
            self.name()
            if rng.random() < 0.3:
                self.emit("[")
                self.sep(self.name)
                self.emit("]")
            if rng.random() < 0.4:
                self.emit(":")
                self.type_expr()
                self.arrow()
                self.type_expr()
            self.emit("=")
            self.expr()
        elif kind == 8:
            self.wiring()
        elif kind == 9:
            self.emit("data")
            self.name()
            self.emit(":")
            self.type_expr()
            self.emit("=")
            self.expr()
        elif kind == 10:
            self.emit("law", rng.choice([*_NAMES, *_WORDS]))
            if rng.random() < 0.3:
                self.emit("over", "[", rng.choice(["0", "1"]), ",", rng.choice(["3", "12"]), "]")
            self.emit(":")
            self.expr()
            self.emit("==")
            self.expr()
            if rng.random() < 0.4:
                self.emit("within", rng.choice(["1e-6", "0.5", "2"]))
        elif kind == 11:
            self.emit("functor")
            self.name()
            if rng.random() < 0.7:
                self.emit(":")
                self.name()
                self.emit(rng.choice(["|->", "↦"]))
                self.type_expr()
                self.emit(",")
                self.name()
                self.emit(rng.choice(["|->", "↦"]))
                self.expr()
        elif kind == 12:
            self.emit("natural")
            self.name()
            if rng.random() < 0.4:
                self.emit("[")
                self.type_expr()
                self.emit("]")
            self.emit(":")
            self.name()
            self.emit(rng.choice(["=>", "⇒"]))
            self.name()
            self.emit("=")
            self.expr()
        elif kind == 13:
            self.emit(rng.choice(["monoid", "preorder"]))
            self.name()
            self.emit(":")
            self.type_expr()
            self.emit("where")
            self.sep(self.field)
        elif kind == 14:
            self.emit(*rng.choice([["category"], ["monoidal", "category"]]))
            self.name()
            self.emit(":")
            self.sep(self.name, 1, 4)
        else:
            self.emit("let")
            self.name()
            self.emit("=")
            self.expr()

    def predicate(self) -> None:
        rng = self.rng
        choice = rng.randrange(3)
        if choice == 0:
            self.name()
        elif choice == 1:
            self.name()
            self.emit("in")
            self.name()
        else:
            for side in range(2):
                if side:
                    self.emit(rng.choice(["<=", ">=", "!=", "==", "<", ">"]))
                which = rng.randrange(3)
                if which == 0:
                    self.name()
                elif which == 1:
                    self.emit(rng.choice(["0", "2.5", "1e3"]))
                else:
                    self.emit("-", rng.choice(["0", "1", "0.0"]))

    def port(self) -> None:
        self.name()
        if self.rng.random() < 0.6:
            self.emit(":")
            self.type_expr()

    def field(self) -> None:
        self.name()
        self.emit("=")
        self.expr()

    def wiring(self) -> None:
        rng = self.rng
        self.emit("let")
        self.name()
        self.emit("(")
        if rng.random() < 0.8:
            self.sep(self.port_typed)
        self.emit(")")
        self.arrow()
        self.type_expr()
        self.emit("=", "{")
        for _ in range(rng.randrange(3)):
            self.name()
            self.emit("=")
            self.expr()
            if rng.random() < 0.6:
                self.emit(";")
        self.emit("return")
        self.expr()
        if rng.random() < 0.5:
            self.emit(";")
        self.emit("}")

    def port_typed(self) -> None:
        self.name()
        self.emit(":")
        self.type_expr()

    def text(self) -> str:
        """The tokens with blanks between them, where two would otherwise run together."""
        rng = self.rng
        out = [rng.choice(["", *_GAPS])]
        previous = ""
        for token in self.out:
            glued = previous + token
            must = bool(previous) and (
                (_WORDLIKE.match(previous[-1]) and _WORDLIKE.match(token[0]))
                or (previous[-1] in _OPERATOR and token[0] in _OPERATOR)
                or _LEX.match(glued).group() != previous  # type: ignore[union-attr]
            )
            if must or rng.random() < 0.5:
                out.append(rng.choice(_GAPS))
            out.append(token)
            previous = token
        out.append(rng.choice(["", "\n", " # end", "\n\n", "\ufeff"]))
        return "".join(out)


_WORDLIKE = re.compile(r"[A-Za-z0-9_'.?\"]")
_OPERATOR = set("-=<>|!.*^+")


def generated(seed: int) -> str:
    """Program `seed`: one to four declarations; one in three has one token edited."""
    rng = random.Random(seed)
    program = _Program(rng)
    for _ in range(rng.randint(1, 4)):
        program.declaration()
    if rng.random() < 1 / 3 and program.out:
        i = rng.randrange(len(program.out))
        edit = rng.randrange(3)
        if edit == 0:
            del program.out[i]
        elif edit == 1:
            program.out.insert(i, program.out[i])
        else:
            program.out[i] = rng.choice(_ANY_TOKEN)
    return program.text()


def test_generated_programs() -> None:
    read_ok = 0
    for seed in range(1500):
        read_ok += read_iff_parsed(generated(seed))
    assert read_ok > 900  # most of them are programs: the comparison is of the reader


def test_the_tricky_token_boundaries() -> None:
    """The lexer's cases of tests/test_parser_fast.py: names that begin with a keyword, every
    form of number, strings with escapes, operators that share a first character, blanks."""
    from test_parser_fast import _program

    rng = random.Random(11)
    read_ok = 0
    for _ in range(400):
        read_ok += agrees(_program(rng))
    assert read_ok > 150


# -- tokens


def test_tokens_are_lark_tokens() -> None:
    """Texts, lines, columns and end columns as Lark's lexer gives them, for every program
    that Lark's lexer cuts (one it cannot cut holds a character the reader gives up on)."""
    lark = lark_parser()
    texts = [text for _, text in CORPUS] + [generated(seed) for seed in range(400)]
    lexed = 0
    for text in texts:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        try:
            expected = [
                (t.value, t.line, t.column, t.end_column) for t in lark.lex(text, dont_ignore=False)
            ]
        except UnexpectedInput:
            continue
        lexed += 1
        cut, lines, columns = descent.tokens(text)
        got = list(zip(cut, lines, columns[0::2], columns[1::2], strict=True))
        assert got == expected, text
    assert lexed > 400


def test_keywords_are_the_grammars_words() -> None:
    """The strings of the grammar that the NAME terminal also matches: Lark's lexer retypes a
    NAME with one of these texts, so the reader never takes one for a name."""
    words = {
        t.pattern.value
        for t in lark_parser().terminals
        if t.pattern.type == "str" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_']*", t.pattern.value)
    }
    assert words == descent.KEYWORDS


def test_a_character_no_terminal_matches_is_a_token_of_its_own() -> None:
    cut, _, columns = descent.tokens("let a = b $ c\nlet é = ٣")
    assert cut == ["let", "a", "=", "b", "$", "c", "let", "é", "=", "٣"]
    assert columns[8:10] == [11, 12]  # "$", from column 11 to 12
    for text in ["let a = b $ c\n", "let é = a\n", "dim D = ٣\n", 'import "a\n', "law l : a ! b"]:
        assert read(text) is None
        agrees(text)


def test_lines_end_with_blanks_comments_or_nothing() -> None:
    text = "let a = b   \n# note\n\n  let c = d # after\nlet e = f"
    cut, lines, columns = descent.tokens(text)
    assert cut == ["let", "a", "=", "b", "let", "c", "=", "d", "let", "e", "=", "f"]
    assert lines == [1, 1, 1, 1, 4, 4, 4, 4, 5, 5, 5, 5]
    assert columns[8:10] == [3, 6]
    assert agrees(text)


@pytest.mark.parametrize(
    "context,close",
    [
        ("let a = {} ", ""),  # an operand of a chain
        ("let a = b >> {} ", ""),
        ("let a = b * {} ", ""),
        ("let a = f({} ", ")"),  # a call's argument
        ("let a = f(k = {} ", ")"),  # a keyword argument's value
        ("let a = f(x, {} ", ")"),
        ("type T = {} ", ""),  # a type
        ("type T = A * {} ", ""),
        ("type T = A + {} ", ""),
        ("type T = Real[{} ", "]"),  # a type's argument
        ("type T = Real[D, {} ", "]"),
        ("let a = g[{} ", "]"),  # a bracket's type argument
    ],
)
def test_a_lone_name_before_every_token(context: str, close: str) -> None:
    """The reader makes a NAME followed by "," or a closing bracket where it stands, without
    the general path: with every token after it (and the end of the text), what it reads is
    what the driver builds, and it gives up where the driver gives up."""
    read_ok = gave_up = 0
    for name in ["x", "and", "id"]:
        for after in [*_ANY_TOKEN, ""]:
            for then in ["", " y", " y)", " y]"]:  # what follows: nothing, or an operand
                if read_iff_parsed(context.format(name) + after + then + close):
                    read_ok += 1
                else:
                    gave_up += 1
    assert read_ok > 5 and gave_up > 100  # both outcomes, for every context


# -- what the reader leaves to the driver


@pytest.mark.parametrize(
    "text",
    [
        'import "a\\tb.cat"\n',  # an escape: decoded by the builder
        'import "\\x"\n',  # a bad escape: E-coded by the builder
        'import "a\x01b"\n',  # a control character in a path
        "dim V = " + "9" * 500 + "\n",  # a number too long to be one
        "let a = 1e999\n",  # a number beyond the reals
        "law l over [0, " + "9" * 450 + "] : a == a\n",  # longer than a number can be
        "law l over [٣, 4] : a == a\n",  # another script's digit
        "dim V = " + "9" * 500 + "\nlet a = >>\n",  # the syntax error after it wins
        "let = 1\n",
        "law over : a == a\n",  # a keyword where a law's name belongs
        "law let : a == a\n",
        "let a = b ^ 2.5\n",
        "let a = b c\n",
        "object O : A < B where finite\n",
        "let a = (b\n",
        "let a = <b>\n",
        "let a = [,,]\n",
        "morphism f : A = g\n",
        "",
    ],
)
def test_what_the_reader_hands_on(text: str) -> None:
    if text:
        assert read(text) is None
    assert same(parse(text, "f.cat"), without_descent(text))


@pytest.mark.parametrize("depth", [descent.ROOM - 1, descent.ROOM + 1, 150, 250, 1000])
@pytest.mark.parametrize(
    "shape",
    [
        lambda n: "let a = " + "(" * n + "x" + ")" * n,
        lambda n: "let a = f" + "(x)" * n,
        lambda n: "let a = " + "g(" * n + "x" + ")" * n,
        lambda n: "object O : " + "List[" * n + "A" + "]" * n,
        lambda n: "let a = " + "<" * n + "x" + ", y>" * n,
        lambda n: "let a = " + "[" * n + "1" + "]" * n,
    ],
)
def test_deep_nesting(shape: Callable[[int], str], depth: int) -> None:
    """Within its room the reader reads what the driver builds; deeper, it gives up, and the
    driver and Lark decide (a tree or E0003) as before."""
    assert descent.ROOM + 1 < parser.MAX_NESTING  # room for the brackets of a declaration
    text = shape(depth) + "\n"
    assert (read(text) is not None) == (depth <= descent.ROOM)
    agrees(text)
    assert same(parse(text, "f.cat"), without_descent(text))


@pytest.mark.parametrize(
    "text",
    [
        "let a = [,]\nlet b = [c,]\nlet d = []\n",
        "let a = f() >> g()()[A]\ntype T = F() * G(x, n = 2)\n",
        "law natural : a == a within 1\nlaw functor over [0, 3] : b == b\n",
        "let w() -> C = { return x }\nlet v(x : A) → B = { y = x z = y; return z; }\n",
        "object O : Real where -1 <= value and value < 2.5 and finite and v in vs\n",
        "object O : Real where 0 == -0 and -0.0 != x\n",
        "natural n[A * B] : F ⇒ G = id[A]\nfunctor F\nfunctor G : A ↦ List[A], f |-> f\n",
        "monoidal category C : A, B\ncategory D : A\npreorder P : A where le = r\n",
        "morphism m[A, x : B, C] : A -> B\nmorphism n : A → B = ⟨f, g> >> <h, i⟩\n",
        'import "a.cat"\nimport a.b.c\ndata d : A = [true, false, "s", ?h, ?, -1, 2.]\n',
        "dim N = 2 * D + 1 - M\ntype T = (A) * ((B * C)) ⊗ D × E\n",
        "let p = (f) ^ n >> (g) ^ 3\nlet q = (f * g) * h >> ((k))\n",
    ],
)
def test_edge_shapes_are_read(text: str) -> None:
    assert agrees(text)


def test_ordered_object_and_its_points() -> None:
    text = "object Level : Low < Mid < High\n"
    items = read(text)
    assert items is not None and len(items) == 4
    decl, low, mid, high = items
    assert decl.elements == ("Low", "Mid", "High")  # type: ignore[attr-defined]
    assert (low.name, mid.value.value, high.name_span.column) == ("Low", 1, 28)  # type: ignore[attr-defined]
    assert agrees(text)


def test_spans_count_the_brackets_for_the_parent() -> None:
    """`((x >> y)) * z`: the tensor starts at the outer bracket, the composition inside at
    `x`, as Lark's `?rule` passes the composition up."""
    items = read("let b = ((x >> y)) * z\n")
    assert items is not None
    body = items[0].body  # type: ignore[attr-defined]
    assert (body.span.column, body.span.end_column) == (9, 23)
    assert (body.parts[0].span.column, body.parts[0].span.end_column) == (11, 17)


# -- the grammar the reader was written for


def test_the_reader_knows_this_grammar() -> None:
    """A change to grammars/catdsl.lark must be made to descent.py too; then update
    `descent.GRAMMAR_SHA256` to the grammar's new hash."""
    digest = hashlib.sha256(grammar_path().read_text(encoding="utf-8").encode()).hexdigest()
    assert digest == descent.GRAMMAR_SHA256
    assert parser.descent_applies()


def test_another_grammar_turns_the_reader_off(monkeypatch: pytest.MonkeyPatch) -> None:
    text = TINY_TEXT
    expected = parse(text, "f.cat")
    calls: list[str] = []
    monkeypatch.setattr(descent, "GRAMMAR_SHA256", "another grammar")
    monkeypatch.setattr(descent, "read_module", lambda *args: calls.append("read"))
    parser.descent_applies.cache_clear()
    try:
        assert not parser.descent_applies()
        assert parse(text, "f.cat") == expected
        assert calls == []
    finally:
        parser.descent_applies.cache_clear()


def test_spaced_lines_are_cut_as_split_cuts_them() -> None:
    """A line of tokens one space apart is cut by `split(" ")` after one `fullmatch`: the same
    texts and columns as the per-token `split` of `_TOKEN`, and lines it must not take (a
    string with a space, a token that `split` would cut in two, a tab, a comment) fall back."""
    lines = [
        "let a = b >> c",
        "  let a = b >> c",
        'import "a b"',
        'x "a\\\\" y',
        "0123 x",
        "1.5e x",
        "a.b c",
        "1e5 .5 5. x",
        "a |-> b",
        "?x ? ?_ y",
        "a'b' c",
        "a\tb",
        "a # c",
        "a  b",
        "a b ",
        "a \xa0 b",
    ]
    for line in lines:
        tiles = descent._TOKEN.split(line)
        if "#" in line and tiles[-2] is None:
            del tiles[-2:]
        expected = tiles[1::2]
        starts = list(accumulate(map(len, tiles), initial=1))[1:-1]
        cut, numbers, columns = descent.tokens(line)
        assert cut == expected, line
        assert columns == starts, line
        assert numbers == [1] * len(cut), line
    assert descent._SPACED.fullmatch("let a = b >> c")
    assert not descent._SPACED.fullmatch("0123 x")  # "0", then "123": two tokens
    assert not descent._SPACED.fullmatch('import "a b"')


def test_token_spans_are_spans() -> None:
    """A span made by `fastnew.token_span_maker` is the `Span` its `__init__` makes: class,
    fields in order, equality, hash, `repr`, pickling, `replace` and frozenness."""
    import dataclasses
    import pickle

    from catdsl.errors import Span
    from catdsl.syntax import fastnew

    span = fastnew.token_span_maker("f.cat", [1, 2, 2], [1, 4, 3, 9, 11, 300])(1, 2)
    made = Span("f.cat", 2, 3, 2, 300)
    assert type(span) is Span and span == made and hash(span) == hash(made)
    assert repr(span) == repr(made)
    assert list(vars(span).items()) == list(vars(made).items())
    assert pickle.loads(pickle.dumps(span)) == made
    assert pickle.dumps(span) == pickle.dumps(made)
    assert dataclasses.replace(span, line=1) == Span("f.cat", 1, 3, 2, 300)
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.line = 5  # type: ignore[misc]
