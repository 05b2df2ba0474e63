"""Turn Lark's parse exceptions into worded diagnostics.

Lark reports token *names* (`COMPOSE`, `$END`); users need words ("`>>`", "end of file") and,
for the common slips, a sentence about what is wrong: a dangling `>>`, a missing `->`, a
stray `=`. The classifier looks at the offending token, the one before it, and the set of
tokens the parser would have accepted.
"""

from __future__ import annotations

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from catdsl.errors import Diagnostic, Span

TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "a whole number",
    "FLOAT": "a number",
    "STRING": "a string",
    "HOLE": "a hole `?`",
    "ARROW": "`->`",
    "COMPOSE": "`>>`",
    "TIMES": "`*`",
    "POW": "`^`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "COMMA": "`,`",
    "SEMICOLON": "`;`",
    "DOT": "`.`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LESSTHAN": "`<`",
    "MORETHAN": "`>`",
    "MINUS": "`-`",
    "PLUS": "`+`",
    "MAPSTO": "`↦`",
    "NATURAL": "`⇒`",
    "$END": "end of file",
}

DECLARATION_KEYWORDS = (
    "import",
    "dim",
    "object",
    "type",
    "param",
    "morphism",
    "let",
    "data",
    "law",
    "functor",
    "natural",
    "monoid",
    "preorder",
)
STRUCTURE_KEYWORDS = {"ID", "SWAP", "COPY", "DISCARD", "FST", "SND", "TRUE", "FALSE", "MINUS"}
EXPRESSION_STARTS = {"NAME", "LPAR", "LESSTHAN", "HOLE", "INT", "FLOAT", "STRING", "LSQB"}


def _word(name: str) -> str:
    if name in TOKEN_WORDS:
        return TOKEN_WORDS[name]
    if " " in name:
        return name
    if name.isupper() and name.replace("_", "").isalpha():
        keyword = name.lower()
        return f"`{keyword}`"
    return f"`{name}`"


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type in ("INT", "FLOAT"):
        return f"number `{token}`"
    return f"`{token}`"


def _expected_words(expected: set[str], anonymous: dict[str, str]) -> str:
    if {"NAME", "LPAR", "HOLE", "LSQB"} <= expected:
        expected = (expected - EXPRESSION_STARTS - STRUCTURE_KEYWORDS) | {"a morphism expression"}
    if {"INT", "FLOAT"} <= expected:
        expected = expected - {"INT"}
    words = sorted({f"`{anonymous[n]}`" if n in anonymous else _word(n) for n in expected})
    if not words:
        return "something else"
    keywords = [w for w in words if w.strip("`") in DECLARATION_KEYWORDS]
    others = [w for w in words if w not in keywords]
    if keywords:
        others.append("a declaration (`" + "`, `".join(k.strip("`") for k in keywords) + "`)")
    if len(others) > 6:
        others = [*others[:6], "…"]
    if len(others) == 1:
        return others[0]
    return ", ".join(others[:-1]) + " or " + others[-1]


def _previous_token(parser: Lark, text: str, line: int, column: int) -> Token | None:
    previous = None
    try:
        for tok in parser.lex(text):
            if (tok.line, tok.column) >= (line, column):
                break
            previous = tok
    except UnexpectedInput:
        return previous
    return previous


def _end_span(text: str, file: str) -> Span:
    lines = text.split("\n")
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    col = len(lines[last - 1]) + 1
    return Span(file, last, col, last, col + 1)


def _token_span(token: Token, file: str) -> Span:
    """Where a token read from the source is (the lexer always sets its line and column)."""
    assert token.line is not None and token.column is not None
    end_col = token.end_column if token.end_column else token.column + max(len(str(token)), 1)
    return Span(file, token.line, token.column, token.end_line or token.line, end_col)


def _classify(
    token: Token,
    previous: Token | None,
    expected: set[str],
    line_text: str,
    anonymous: dict[str, str],
) -> tuple[str, str, str | None]:
    """Return (code, message, help) for an unexpected token."""
    prev = previous.type if previous is not None else None
    found = _describe_token(token)
    structure = _structure_slip(token, expected, line_text)
    if structure is not None:
        return structure
    if (
        token.type == "SEMICOLON"
        and "SEMICOLON" not in expected
        and prev in ("NAME", "RPAR", "RSQB", "MORETHAN")
    ):
        return (
            "E0112",
            "`;` does not compose morphisms in catdsl",
            "write `>>`, which composes in the same diagrammatic order: "
            + _semicolon_fix(line_text),
        )
    if (
        token.type == "NAME"
        and token.column == 1
        and any(k.upper() in expected for k in DECLARATION_KEYWORDS)
        and str(token) not in _NOT_KEYWORDS
    ):
        return (
            "E0113",
            f"`{token}` does not start a declaration",
            "a declaration starts with one of "
            + ", ".join(f"`{k}`" for k in DECLARATION_KEYWORDS)
            + " (docs/language.md and docs/structure.md)",
        )
    if prev in ("COMPOSE", "TIMES", "POW") and token.type not in EXPRESSION_STARTS:
        op = {"COMPOSE": ">>", "TIMES": "*", "POW": "^"}[prev]
        advice = f"finish the expression after `{op}` or remove the `{op}`"
        if op == ">>" and "<" in line_text:
            advice = "to close two pairings write `> >`: `>>` always reads as composition"
        return ("E0102", f"dangling `{op}`: expected a morphism after it, found {found}", advice)
    if (
        "ARROW" in expected
        and token.type in ("EQUAL", "$END", "NAME")
        and "COMPOSE" not in expected
    ):
        return (
            "E0103",
            f"missing `->` in the signature, found {found}",
            "a signature reads `Source -> Target`, "
            "e.g. `morphism Softmax : Logits -> Distribution`",
        )
    if token.type == "EQUAL" and "EQUAL" not in expected and prev in ("NAME", "RSQB", "RPAR"):
        return (
            "E0104",
            "unexpected `=` here",
            "to compare both sides of a law write `==`; to bind a name use `let name = ...`",
        )
    if token.type == "$END":
        return (
            "E0105",
            f"unexpected end of file: expected {_expected_words(expected, anonymous)}",
            None,
        )
    if token.type == "RPAR" and prev == "LPAR":
        return ("E0106", "empty parentheses", "write a morphism inside `( )`, or remove them")
    if token.type == "NAME" and str(token) in ("function", "def", "fn", "var", "val", "const"):
        return (
            "E0107",
            f"`{token}` is not a catdsl keyword",
            "declare with `morphism Name : A -> B = ...` or `let name = ...`",
        )
    help_text: str | None = None
    if token.type == "POW":
        help_text = "`^` takes a whole number (or a dim name) and does not chain: write `f ^ 4`"
    elif "COLON" in expected and prev == "NAME":
        help_text = "a declaration reads `morphism Name : A -> B = ...` or `object Name : Real[4]`"
    words = _expected_words(expected, anonymous)
    return ("E0101", f"unexpected {found}: expected {words}", help_text)


_NOT_KEYWORDS = ("function", "def", "fn", "var", "val", "const")
"""Words of other languages, answered by E0107."""

_COMPOSITION_CHARS = {"∘": "ring operator", "·": "middle dot"}
"""Characters that write composition in applicative order (`g ∘ f`: f first)."""


def _structure_slip(
    token: Token, expected: set[str], line_text: str
) -> tuple[str, str, str | None] | None:
    """A `functor`, `natural`, `monoid` or `preorder` declaration written another way."""
    head = line_text.split()[0] if line_text.split() else ""
    if head == "functor" and ("MAPSTO" in expected or expected == {"COMMA"}):
        return (
            "E0114",
            "a functor is declared by its object map and its morphism map",
            "write `functor F : A ↦ List[A], f ↦ List(f)` (ASCII `|->` for `↦`); a map "
            "between two functors is a natural transformation: `natural first : List ⇒ Option "
            "= first`",
        )
    words = line_text.split()
    if head == "natural" and len(words) > 1 and words[1] == "transformation":
        return (
            "E0115",
            "`natural` alone declares a natural transformation",
            "write `natural first : List ⇒ Option = first`, without `transformation`",
        )
    if head == "natural" and "NATURAL" in expected:
        return (
            "E0115",
            "a natural transformation goes from one functor to another with `⇒`",
            "write `natural first : List ⇒ Option = first` (ASCII `=>` for `⇒`)",
        )
    if head == "natural" and expected == {"EQUAL"}:
        return (
            "E0115",
            "a natural transformation is given by its component, after `=`",
            "write `natural first : List ⇒ Option = first`: one morphism `List[A] -> Option[A]` "
            "for every object A",
        )
    if head in ("monoid", "preorder") and "WHERE" in expected:
        example = (
            "monoid Trace : Steps where unit = empty, op = concat"
            if head == "monoid"
            else "preorder Stages : Stage where le = le"
        )
        return (
            "E0116",
            f"a {head} is given by its parts after `where`",
            f"write `{example}`",
        )
    return None


def _semicolon_fix(line_text: str) -> str:
    """The line's chain with `;` written as `>>`."""
    body = line_text.split("=", 1)[1] if "=" in line_text else line_text
    parts = [p.strip() for p in body.split(";") if p.strip()]
    return f"`{' >> '.join(parts)}`" if len(parts) > 1 else "`f >> g`"


def _applicative_fix(line_text: str, column: int) -> str:
    """`g ∘ f` around `column` (1-based) written as `f >> g`."""
    before, after = line_text[: column - 1].rstrip(), line_text[column:].lstrip()
    left = before.split()[-1] if before.split() else "g"
    right = after.split()[0] if after.split() else "f"
    left = left.split("=")[-1].lstrip("(⟨<[") or "g"
    right = right.rstrip(")⟩>],;") or "f"
    return f"`{left} {line_text[column - 1]} {right}` is `{right} >> {left}`"


def describe_parse_error(err: UnexpectedInput, text: str, file: str, parser: Lark) -> Diagnostic:
    """One worded diagnostic for a Lark parse failure."""
    anonymous = {t.name: t.pattern.value for t in parser.terminals if t.name.startswith("__ANON")}
    if isinstance(err, UnexpectedCharacters):
        line, col, pos = err.line, err.column, err.pos_in_stream
        char = text[pos] if pos is not None and 0 <= pos < len(text) else "?"
        span = Span(file, line, col, line, col + 1)
        hint = None
        if char in _COMPOSITION_CHARS:
            line_text = text.split("\n")[line - 1]
            return Diagnostic(
                "E0111",
                f"`{char}` composes in applicative order; catdsl writes `>>` in diagram order",
                span,
                help=f"swap the two sides: {_applicative_fix(line_text, col)}",
            )
        if char == "'":
            hint = 'strings use double quotes: "x.npy"'
        elif char in "=!":
            hint = "comparison operators are `==`, `!=`, `<=`, `>=`"
        elif char in "/%&|":
            hint = "arithmetic on values is written with morphisms such as `add`, `mul`, `scale(c)`"
        return Diagnostic("E0100", f"unexpected character `{char}`", span, help=hint)
    if isinstance(err, UnexpectedEOF):
        span = _end_span(text, file)
        expected = {str(name) for name in err.expected}  # terminal names
        return Diagnostic(
            "E0105",
            f"unexpected end of file: expected {_expected_words(expected, anonymous)}",
            span,
        )
    if isinstance(err, UnexpectedToken):
        token = err.token
        expected = {str(name) for name in err.expected or ()}  # terminal names
        if token.type == "$END" or token.line in (None, -1):
            span = _end_span(text, file)
            previous = _previous_token(parser, text, span.line, span.column)
        else:
            span = _token_span(token, file)
            previous = _previous_token(parser, text, token.line, token.column)
        lines = text.split("\n")
        line_text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
        code, message, help_text = _classify(token, previous, expected, line_text, anonymous)
        return Diagnostic(code, message, span, help=help_text)
    return Diagnostic("E0101", "cannot parse the program", Span.point(file, 1, 1))


# ---------------------------------------------------------------- literals
# Numbers and strings that lex fine but cannot be read: their wording, raised by the
# Transformer at the literal (`parser.py`).

LARGEST_NUMBER = "1.8e308"
STRING_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}
"""The escapes a string may use (docs/language.md); any other backslash is refused."""


def number_text(text: str) -> str:
    """A number as quoted in a message: long ones cut, with their count of digits."""
    if len(text) <= 24:
        return f"`{text}`"
    return f"`{text[:12]}…{text[-4:]}` ({len(text)} characters)"


def number_too_large(text: str, span: Span) -> Diagnostic:
    return Diagnostic(
        "E0108",
        f"the number {number_text(text)} is out of range: numbers go up to about {LARGEST_NUMBER}",
        span,
        help="no dim, count, power, seed or real number can hold it; write a smaller number",
    )


def bad_escape(escape: str, span: Span) -> Diagnostic:
    shown = escape if escape.isprintable() else repr(escape)[1:-1]
    return Diagnostic(
        "E0109",
        f"unknown escape `{shown}` in a string",
        span,
        help='the escapes are `\\\\`, `\\"`, `\\n` and `\\t`; write other characters as they are',
    )


def control_in_path(char: str, span: Span) -> Diagnostic:
    return Diagnostic(
        "E0110",
        f"a path cannot hold the control character {_control_name(char)}",
        span,
        help="strings are file paths (`import`, `load`): write the file's name without it",
    )


def _control_name(char: str) -> str:
    names = {"\0": "NUL", "\t": "TAB", "\n": "LF (newline)", "\r": "CR", "\x7f": "DEL"}
    return names.get(char, f"U+{ord(char):04X}")
