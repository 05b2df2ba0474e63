"""Recursive descent for well-formed programs: `grammars/catdsl.lark` read by hand, one Python
function per level of the grammar, the AST built as each production is recognised.

The LALR driver (`lalr.py`) takes a Python step per token and per reduction, and carries every
value's position on a stack. Here the keyword that opens a declaration picks its production,
expressions are read by precedence (`>>` below `*` below `^` below calls and brackets) with the
n-ary chains and the one-child passes of the grammar's `?rules` taken in loops, and no token
becomes an object: one `split` per line cuts it into blanks and tokens, and a few calls in C
turn those into lists of texts, lines and columns that the functions index.

The AST is the one Lark's tree and `parser._ToAst` give, node for node and span for span: a
node spans the tokens of its production, from its first to its last, keywords and brackets
included; a node a `?rule` passes up keeps its own span, and the brackets around it count for
its parent (`tests/test_parser_descent.py` checks this against Lark).

Anything this reader does not recognise makes it give up (`GiveUp`), and the caller reads the
text again with the LALR driver and then Lark, so every diagnostic is theirs: a token where the
grammar has none, a literal the AST builder would refuse (a bad escape, a control character, a
number too large), a tree nested deeper than `ROOM` brackets and postfix applications (beyond
the driver's own depth limit a deep tree's fate is Lark's), or a grammar that is not the one
this module was written for (`GRAMMAR_SHA256`).
"""

from __future__ import annotations

import math
import re
from itertools import accumulate, islice, repeat
from typing import Any

from catdsl.syntax import fastnew as new
from catdsl.syntax.lalr import GiveUp

GRAMMAR_SHA256 = "6ee68e2d1c31a0b3956ddd3c20142efd8cc799dda8efa801a1f795cfd93ca098"
"""The grammar text this reader implements. Another grammar turns the reader off (every parse
takes the LALR driver) until the reader is brought in line and this hash updated."""

MAX_NUMBER_CHARS = 400
"""No number written in a program is longer: 1.8e308, the largest real, has 309 digits."""

ROOM = 25
"""How many brackets may enclose one another before the reader gives up, counting each call or
bracket applied to the result of another (`f(x)(y)`) as enclosing it. Each adds at most five
levels to Lark's tree, so what the reader reads stays well inside the LALR driver's
`MAX_DEPTH` (400) and Lark's recursion limit, where they build the tree the reader builds."""

# ---------------------------------------------------------------- tokens


def _terminal(string: str) -> str:
    """The pattern of one token: the grammar's terminals, tried so that each text is cut as
    Lark's lexer cuts it (where two terminals can start with the same character, the one Lark
    tries first comes first: a FLOAT before an INT or a ".", "->" before "-", ">>" before
    ">"), the commonest first; or any other character but a blank (no terminal: the reader
    gives up on it). `string` is the pattern of the inside of a STRING."""
    return (
        r"[A-Za-z_][A-Za-z0-9_']*"  # NAME and the keywords
        r"|[(),\[\]:{};^+*⊗×⟨⟩]"  # operators and brackets that begin no longer token
        r"|->|>>|==|=>|<=|>=|!=|\|->|[=<>\-]"  # ARROW COMPOSE NATURAL MAPSTO, comparisons
        r"|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+"  # FLOAT
        r"|0|[1-9][0-9]*|\."  # INT and the dot of a dotted name
        r"|\?[A-Za-z_][A-Za-z0-9_]*|\?"  # HOLE
        f'|"{string}"'  # STRING
        r"|↦|→|⇒"
        r"|[^ \t\r\f\ufeff#]"
    )


_STRING = r'(?:[^"\\]|\\.)*'
_UNSPACED_STRING = r'(?:[^" \\]|\\[^ ])*'

_TOKEN = re.compile(
    # one token, kept by `split`, which returns the blanks between tokens with them; or a
    # comment, to the end of the line: split off, not kept (its group is None)
    f"({_terminal(_STRING)})|#.*"
)
"""What cuts a line into tokens: `_TOKEN.split(line)` is the blanks before the first token,
the token, the blanks before the next, and so on, and the blanks after the last (the grammar's
%ignore blanks: space, tab, CR, form feed, byte-order mark). No token spans lines: a newline is
a blank, and no terminal but that of blanks matches one."""

_ONE = f"(?>{_terminal(_UNSPACED_STRING)})"
_SPACED = re.compile(f"{_ONE}(?: {_ONE})*")
"""Whether a line (less its indent) is tokens one space apart, with no comment: then the line's
`split(" ")` is its tokens. Each token is the one `_TOKEN` finds where it starts (an atomic
group keeps the first way the terminals match, as `split` does, and a blank must follow it), a
STRING holds no space, and the line is read by one `fullmatch` rather than a match per token."""

END = "$END"
"""What the reader sees after the last token: no token's text ("$" is a token of its own)."""

KEYWORDS = frozenset(
    {
        *("import", "dim", "object", "where", "and", "in", "type", "param", "morphism"),
        *("let", "return", "data", "law", "within", "over", "functor", "natural", "monoid"),
        *("preorder", "category", "monoidal", "id", "swap", "copy", "discard", "fst", "snd"),
        *("true", "false"),
    }
)
"""The grammar's words: Lark's lexer never reads them as a NAME."""

_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
"""The first characters of a NAME (or a keyword): no other token starts with one."""

_DIGITS = frozenset("0123456789.")
"""The first characters of a number (and of the dot token ".", the only other)."""

TIMES = frozenset({"*", "⊗", "×"})
ARROWS = frozenset({"->", "→"})
MAPSTO = frozenset({"|->", "↦"})
NATURALS = frozenset({"=>", "⇒"})
COMPARISONS = frozenset({"<=", ">=", "!=", "==", "<", ">"})
STRUCTURAL = frozenset({"id", "swap", "copy", "discard", "fst", "snd"})
OPENS_PAIRING = frozenset({"<", "⟨"})
CLOSES_PAIRING = frozenset({">", "⟩"})
_APPLIED = frozenset({"(", "[", "^"})
"""What may follow an atom in `power` and `app`: a call, a bracket, a power."""
SOFT_NAMES = frozenset({"functor", "natural", "monoid", "preorder"})
"""Keywords that may still name a law (`law natural : ...`)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""The characters a string (a file path) may not hold."""


def tokens(text: str) -> tuple[list[str], list[int], list[int]]:
    """The token texts of `text`, each token's line, and each token's column and end column
    (token k's at 2k and 2k + 1), as Lark's lexer counts them. A line of tokens one space
    apart is checked by one `fullmatch` and cut by `split(" ")`; any other by one `split` of
    `_TOKEN`; the columns are summed by `accumulate`: a few calls in C per line, none per
    token."""
    texts: list[str] = []
    lines: list[int] = []
    columns: list[int] = []
    spaced, cut = _SPACED.fullmatch, _TOKEN.split
    for number, line in enumerate(text.split("\n"), 1):
        words = line.lstrip(" ")
        if spaced(words):
            cuts = words.split(" ")
            lines += repeat(number, len(cuts))
            texts += cuts
            steps = [1] * (2 * len(cuts) - 1)  # each token's length, then the space after it
            steps[0::2] = map(len, cuts)
            columns += accumulate(steps, initial=len(line) - len(words) + 1)
        elif words:
            tiles = cut(line)  # blanks, token, blanks, ..., token, blanks
            if "#" in line and tiles[-2] is None:  # a comment, then "" (the end of the line)
                del tiles[-2:]
            if len(tiles) > 1:
                texts += tiles[1::2]
                columns += islice(accumulate(map(len, tiles), initial=1), 1, len(tiles))
                lines += repeat(number, len(tiles) >> 1)
    return texts, lines, columns


def _is_int(text: str) -> bool:
    """Whether a token is an INT (`isdigit` alone would take other scripts' digits)."""
    return text.isdigit() and text.isascii()


def is_name(text: str) -> bool:
    """Whether a token is a NAME (not a keyword)."""
    return text[0] in _LETTERS and text not in KEYWORDS


# ---------------------------------------------------------------- the reader


class Reader:
    """One text's tokens and the functions that read them.

    Every `read_*` function takes the index of the first token of its production and returns
    what it built and the index of the token after it; the token list ends with enough `END`s
    that looking a few tokens ahead never runs off it."""

    __slots__ = ("declarations", "room", "span", "texts")

    def __init__(self, text: str, file: str) -> None:
        texts, lines, columns = tokens(text)
        texts += [END] * 4
        self.texts = texts
        self.span = new.token_span_maker(file, lines, columns)
        """The span from the start of token `first` to the end of token `last`."""
        self.room = ROOM
        self.declarations = {
            "import": self.read_import,
            "dim": self.read_dim,
            "object": self.read_object,
            "type": self.read_type_decl,
            "param": self.read_param,
            "morphism": self.read_morphism,
            "let": self.read_let,
            "data": self.read_data,
            "law": self.read_law,
            "functor": self.read_functor,
            "natural": self.read_natural,
            "monoid": self.read_structure,
            "preorder": self.read_structure,
            "category": self.read_category,
            "monoidal": self.read_category,
        }

    def read_module(self) -> tuple[Any, ...]:
        """`start: item*`: each item opens with its keyword. A finite ordered object is its
        declaration and its points."""
        texts, declarations = self.texts, self.declarations
        items: list[Any] = []
        i = 0
        while texts[i] != END:
            read = declarations.get(texts[i])
            if read is None:
                raise GiveUp
            item, i = read(i)
            if type(item) is tuple:
                items += item
            else:
                items.append(item)
        return tuple(items)

    # -- small pieces

    def expect(self, i: int, text: str) -> int:
        """The index after token `i`, which must be `text`."""
        if self.texts[i] != text:
            raise GiveUp
        return i + 1

    def name(self, i: int) -> str:
        """Token `i`'s text, which must be a NAME."""
        text = self.texts[i]
        if text[0] not in _LETTERS or text in KEYWORDS:
            raise GiveUp
        return text

    def enter(self) -> None:
        """One more bracket or application around what is read next (`ROOM`)."""
        self.room -= 1
        if self.room < 0:
            raise GiveUp

    def number(self, i: int) -> int | float:
        """The value of token `i`, an INT or a FLOAT, as `parser._ToAst._number` reads it; a
        number it refuses makes the reader give up, so that the driver words the error."""
        text = self.texts[i]
        if text[0] not in _DIGITS or text == "." or len(text) > MAX_NUMBER_CHARS:
            raise GiveUp
        value: int | float
        try:
            value = int(text) if text.isdigit() else float(text)
            finite = math.isfinite(float(value))
        except (OverflowError, ValueError):
            raise GiveUp from None
        if not finite:
            raise GiveUp
        return value

    def string(self, i: int) -> str:
        """The value of token `i`, a STRING, when it has no escape and no control character
        (then it is its text less the quotes); any other string goes to the driver."""
        text = self.texts[i]
        if text[0] != '"' or len(text) < 2:  # a lone quote: a string that does not end
            raise GiveUp
        raw = text[1:-1]
        if "\\" in raw or _CONTROL.search(raw):
            raise GiveUp
        return raw

    # -- types and dims

    def read_type(self, i: int) -> tuple[Any, int]:
        """`type_sum: type_product (("+" | "-") type_product)*` and
        `type_product: type_atom (TIMES type_atom)*`: a chain of one passes its part up."""
        texts, span = self.texts, self.span
        items: list[Any] | None = None
        ops: list[str] = []
        node: Any
        j = i
        while True:
            first = j
            text, after = texts[j], texts[j + 1]
            # a NAME with no "[" or "(" after it: `read_type_atom`'s TName
            if after != "[" and after != "(" and text[0] in _LETTERS and text not in KEYWORDS:
                node, j = new.TName(text, span(j, j)), j + 1
            else:
                node, j = self.read_type_atom(j)
            if texts[j] in TIMES:
                factors = [node]
                while texts[j] in TIMES:
                    node, j = self.read_type_atom(j + 1)
                    factors.append(node)
                node = new.TProduct(tuple(factors), span(first, j - 1))
            op = texts[j]
            if op != "+" and op != "-":
                break
            if items is None:
                items = []
            items.append(node)
            ops.append(op)
            j += 1
        if items is None:
            return node, j
        items.append(node)
        return new.TSum(tuple(items), tuple(ops), span(i, j - 1)), j

    def read_type_atom(self, i: int) -> tuple[Any, int]:
        """`NAME`, `NAME "[" type_args "]"`, `NAME "(" call_args? ")"`, `INT` or
        `"(" type_expr ")"` (the brackets count for the parent, not the node)."""
        texts = self.texts
        text = texts[i]
        if text[0] in _LETTERS and text not in KEYWORDS:
            after = texts[i + 1]
            if after == "[":
                self.enter()
                args, j = self.read_type_args(i + 2)
                self.room += 1
                return new.TApply(text, args, self.span(i, j)), j + 1
            if after == "(":
                self.enter()
                call_args, j = self.read_call_args(i + 2)
                self.room += 1
                return new.TCall(text, call_args, self.span(i, j)), j + 1
            return new.TName(text, self.span(i, i)), i + 1
        if text == "(":
            self.enter()
            node, j = self.read_type(i + 1)
            self.room += 1
            return node, self.expect(j, ")")
        if _is_int(text):  # a FLOAT is no type
            return new.TInt(int(self.number(i)), self.span(i, i)), i + 1
        raise GiveUp

    def read_type_args(self, i: int) -> tuple[tuple[Any, ...], int]:
        """`type_expr ("," type_expr)*` then "]": the types and the index of the "]"."""
        texts, span = self.texts, self.span
        args = []
        j = i - 1
        while True:
            j += 1
            text, after = texts[j], texts[j + 1]
            # a NAME alone (`D` in `Real[D, D]`): `read_type`'s TName
            if (after == "," or after == "]") and text[0] in _LETTERS and text not in KEYWORDS:
                args.append(new.TName(text, span(j, j)))
                j += 1
            else:
                node, j = self.read_type(j)
                args.append(node)
            if texts[j] != ",":
                break
        if texts[j] != "]":
            raise GiveUp
        return tuple(args), j

    # -- morphism expressions

    def read_expr(self, i: int) -> tuple[Any, int]:
        """`compose: tensor (">>" tensor)*` and `tensor: power (TIMES power)*`: a chain of
        one passes its part up."""
        texts, span = self.texts, self.span
        parts: list[Any] | None = None
        node: Any
        j = i
        while True:
            first = j
            text, after = texts[j], texts[j + 1]
            # a NAME with no call, bracket or power after it: `read_power`'s Name
            if after not in _APPLIED and text[0] in _LETTERS and text not in KEYWORDS:
                node, j = new.Name(text, span(j, j)), j + 1
            else:
                node, j = self.read_power(j)
            if texts[j] in TIMES:
                factors = [node]
                while texts[j] in TIMES:
                    node, j = self.read_power(j + 1)
                    factors.append(node)
                node = new.Tensor(tuple(factors), span(first, j - 1))
            if texts[j] != ">>":
                break
            if parts is None:
                parts = []
            parts.append(node)
            j += 1
        if parts is None:
            return node, j
        parts.append(node)
        return new.Compose(tuple(parts), span(i, j - 1)), j

    def read_power(self, i: int) -> tuple[Any, int]:
        """`power: app ("^" (INT | NAME))?` and `app: atom ("(" call_args? ")" |
        "[" type_args "]")*`, with the commonest atoms (a name, a bracketed expression) read
        here and the rest by `read_atom`."""
        texts = self.texts
        text = texts[i]
        if text[0] in _LETTERS and text not in KEYWORDS:
            node, j = new.Name(text, self.span(i, i)), i + 1
        elif text == "(":
            self.enter()
            node, j = self.read_expr(i + 1)
            self.room += 1
            j = self.expect(j, ")")
        else:
            node, j = self.read_atom(i)
        after = texts[j]
        if after == "(" or after == "[":
            node, j = self.read_applications(i, node, j)
            after = texts[j]
        if after != "^":
            return node, j
        j += 1
        exponent = int(self.number(j)) if _is_int(texts[j]) else self.name(j)
        return new.Power(node, exponent, self.span(i, j), self.span(j, j)), j + 1

    def read_applications(self, i: int, node: Any, j: int) -> tuple[Any, int]:
        """The calls `(...)` and brackets `[...]` after the atom that starts at token `i`
        (`node`, read up to `j`): each nests the ones before it."""
        texts = self.texts
        room = self.room
        while True:
            after = texts[j]
            if after == "(":
                self.enter()
                args, j = self.read_call_args(j + 1)
                node = new.Call(node, args, self.span(i, j))
            elif after == "[":
                self.enter()
                type_args, j = self.read_type_args(j + 1)
                node = new.Bracket(node, type_args, self.span(i, j))
            else:
                self.room = room
                return node, j
            j += 1

    def read_call_args(self, i: int) -> tuple[tuple[Any, ...], int]:
        """`call_arg ("," call_arg)*`, or nothing, then ")": the `Arg`s and the index of the
        ")". `call_arg: expr | NAME "=" expr`."""
        texts, span = self.texts, self.span
        if texts[i] == ")":
            return (), i
        args = []
        j = i - 1
        while True:
            first = value_at = j + 1
            keyword = None
            if texts[first + 1] == "=" and is_name(texts[first]):
                keyword, value_at = texts[first], first + 2
            text, after = texts[value_at], texts[value_at + 1]
            # a lone NAME (`W0` in `affine(W0, b0)`): `read_expr`'s Name
            if (after == "," or after == ")") and text[0] in _LETTERS and text not in KEYWORDS:
                value, j = new.Name(text, span(value_at, value_at)), value_at + 1
            else:
                value, j = self.read_expr(value_at)
            args.append(new.Arg(keyword, value, span(first, j - 1)))
            if texts[j] != ",":
                break
        if texts[j] != ")":
            raise GiveUp
        return tuple(args), j

    def read_atom(self, i: int) -> tuple[Any, int]:
        """The atoms other than a name and a bracketed expression: `and` (std.logic's), a
        pairing `<f, g>`, a hole, `id[A]` and the other structural morphisms, and literals."""
        texts = self.texts
        text = texts[i]
        first = text[0]
        if first in _DIGITS and text != ".":
            return new.Literal(self.number(i), self.span(i, i)), i + 1
        if text == "and":
            return new.Name("and", self.span(i, i)), i + 1
        if text in OPENS_PAIRING:
            self.enter()
            node, j = self.read_expr(i + 1)
            parts = [node]
            while texts[j] == ",":
                node, j = self.read_expr(j + 1)
                parts.append(node)
            if len(parts) < 2 or texts[j] not in CLOSES_PAIRING:
                raise GiveUp
            self.room += 1
            return new.Pairing(tuple(parts), self.span(i, j)), j + 1
        if first == "?":
            return new.Hole(text[1:] or None, self.span(i, i)), i + 1
        if text in STRUCTURAL:
            self.enter()
            type_args, j = self.read_type_args(self.expect(i + 1, "["))
            self.room += 1
            return new.Structural(text, type_args, self.span(i, j)), j + 1
        if text == "-":
            return new.Literal(-self.number(i + 1), self.span(i, i + 1)), i + 2
        if first == '"':
            return new.Literal(self.string(i), self.span(i, i)), i + 1
        if text == "true" or text == "false":
            return new.Literal(text == "true", self.span(i, i)), i + 1
        if text == "[":
            return self.read_list(i)
        raise GiveUp

    def read_list(self, i: int) -> tuple[Any, int]:
        """`"[" (expr ("," expr)*)? ","? "]"`."""
        texts = self.texts
        self.enter()
        items = []
        j = i + 1
        if texts[j] == ",":
            j += 1
        elif texts[j] != "]":
            node, j = self.read_expr(j)
            items.append(node)
            while texts[j] == ",":
                j += 1
                if texts[j] == "]":
                    break
                node, j = self.read_expr(j)
                items.append(node)
        if texts[j] != "]":
            raise GiveUp
        self.room += 1
        return new.ListLiteral(tuple(items), self.span(i, j)), j + 1

    # -- declarations: each takes the index of its keyword

    def read_import(self, i: int) -> tuple[Any, int]:
        """`"import" dotted_name` or `"import" STRING`."""
        if self.texts[i + 1][0] == '"':
            return new.ImportFile(self.string(i + 1), self.span(i, i + 1)), i + 2
        names = [self.name(i + 1)]
        j = i + 2
        while self.texts[j] == ".":
            names.append(self.name(j + 1))
            j += 2
        return new.ImportModule(".".join(names), self.span(i, j - 1)), j

    def read_dim(self, i: int) -> tuple[Any, int]:
        """`"dim" NAME ("=" type_expr)?`."""
        name = self.name(i + 1)
        value, j = None, i + 2
        if self.texts[j] == "=":
            value, j = self.read_type(j + 1)
        return new.DimDecl(name, value, self.span(i, j - 1), self.span(i + 1, i + 1)), j

    def read_object(self, i: int) -> tuple[Any, int]:
        """`"object" NAME ":" type_expr where_clause?`, or a finite ordered object
        `"object" NAME ":" NAME ("<" NAME)+`: its declaration and one point per element."""
        texts = self.texts
        name = self.name(i + 1)
        j = self.expect(i + 2, ":")
        if texts[j + 1] == "<" and is_name(texts[j]):
            return self.read_ordered_object(i, name, j)
        carrier, j = self.read_type(j)
        where: tuple[Any, ...] = ()
        if texts[j] == "where":
            where, j = self.read_where(j + 1)
        span = self.span(i, j - 1)
        return new.ObjectDecl(name, carrier, where, span, self.span(i + 1, i + 1)), j

    def read_ordered_object(self, i: int, name: str, j: int) -> tuple[Any, int]:
        """`object Level : Observation < Feature < Score` from its first element, token `j`:
        an object over `Index[3]` whose elements, least first, are also its points."""
        texts, span_of = self.texts, self.span
        elements = [j]
        j += 1
        while texts[j] == "<":
            self.name(j + 1)
            elements.append(j + 1)
            j += 2
        span = span_of(i, j - 1)
        size = new.TInt(len(elements), span)
        carrier = new.TApply("Index", (size,), span)
        names = tuple(texts[e] for e in elements)
        decl = new.ObjectDecl(name, carrier, (), span, span_of(i + 1, i + 1), names)
        points = tuple(
            new.DataDecl(
                texts[e],
                new.TName(name, span_of(e, e)),
                new.Literal(n, span_of(e, e)),
                span_of(e, e),
                span_of(e, e),
            )
            for n, e in enumerate(elements)
        )
        return (decl, *points), j

    def read_where(self, i: int) -> tuple[tuple[Any, ...], int]:
        """`predicate ("and" predicate)*` after "where". `predicate: pred_term cmp pred_term
        | NAME | NAME "in" NAME`, `pred_term: NAME | number | "-" number`."""
        texts = self.texts
        predicates = []
        j = i - 1
        while True:
            first = j + 1
            text, after = texts[first], texts[first + 1]
            if after not in COMPARISONS and is_name(text):
                if after == "in":
                    members = self.name(first + 2)
                    j = first + 3
                    predicate = new.Predicate(text, "in", members, self.span(first, j - 1))
                else:
                    j = first + 1
                    predicate = new.Predicate(text, None, None, self.span(first, first))
            else:
                left, j = self.read_pred_term(first)
                op = texts[j]
                if op not in COMPARISONS:
                    raise GiveUp
                right, j = self.read_pred_term(j + 1)
                predicate = new.Predicate(left, op, right, self.span(first, j - 1))
            predicates.append(predicate)
            if texts[j] != "and":
                return tuple(predicates), j

    def read_pred_term(self, i: int) -> tuple[str | float, int]:
        """A comparison's side: a NAME's text, or a number (negated after "-") as a float."""
        text = self.texts[i]
        if text == "-":
            return float(-self.number(i + 1)), i + 2
        if text[0] in _DIGITS:
            return float(self.number(i)), i + 1
        return self.name(i), i + 1

    def read_type_decl(self, i: int) -> tuple[Any, int]:
        """`"type" NAME "=" type_expr`."""
        name = self.name(i + 1)
        texpr, j = self.read_type(self.expect(i + 2, "="))
        return new.TypeDecl(name, texpr, self.span(i, j - 1), self.span(i + 1, i + 1)), j

    def read_param(self, i: int) -> tuple[Any, int]:
        """`"param" NAME ":" type_expr "=" expr`."""
        name = self.name(i + 1)
        texpr, j = self.read_type(self.expect(i + 2, ":"))
        init, j = self.read_expr(self.expect(j, "="))
        span = self.span(i, j - 1)
        return new.ParamDecl(name, texpr, init, span, self.span(i + 1, i + 1)), j

    def read_morphism(self, i: int) -> tuple[Any, int]:
        """`"morphism" NAME port_list? ":" type_expr ARROW type_expr ("=" expr)?`, where
        `port_list: "[" port ("," port)* "]"` and a port is `NAME ":" type_expr` or a type
        parameter `NAME`."""
        texts = self.texts
        name = self.name(i + 1)
        ports: list[Any] = []
        type_params: list[str] = []
        j = i + 2
        if texts[j] == "[":
            while True:
                port = j + 1
                port_name = self.name(port)
                if texts[port + 1] == ":":
                    texpr, j = self.read_type(port + 2)
                    ports.append(new.PortDecl(port_name, texpr, self.span(port, j - 1)))
                else:
                    type_params.append(port_name)
                    j = port + 1
                if texts[j] != ",":
                    break
            j = self.expect(j, "]")
        dom, j = self.read_type(self.expect(j, ":"))
        if texts[j] not in ARROWS:
            raise GiveUp
        cod, j = self.read_type(j + 1)
        body = None
        if texts[j] == "=":
            body, j = self.read_expr(j + 1)
        span, name_span = self.span(i, j - 1), self.span(i + 1, i + 1)
        ports_, params_ = tuple(ports), tuple(type_params)
        return new.MorphismDecl(name, ports_, dom, cod, body, span, name_span, params_), j

    def read_let(self, i: int) -> tuple[Any, int]:
        """`"let" NAME type_params? (":" type_expr ARROW type_expr)? "=" expr`, or a wiring
        block when a "(" follows the name."""
        texts = self.texts
        name = self.name(i + 1)
        j = i + 2
        if texts[j] == "(":
            return self.read_wiring(i, name)
        type_params: tuple[str, ...] = ()
        if texts[j] == "[":
            params = [self.name(j + 1)]
            j += 2
            while texts[j] == ",":
                params.append(self.name(j + 1))
                j += 2
            j = self.expect(j, "]")
            type_params = tuple(params)
        dom = cod = None
        if texts[j] == ":":
            dom, j = self.read_type(j + 1)
            if texts[j] not in ARROWS:
                raise GiveUp
            cod, j = self.read_type(j + 1)
        body, j = self.read_expr(self.expect(j, "="))
        span = self.span(i, j - 1)
        return new.LetDecl(name, dom, cod, body, span, self.span(i + 1, i + 1), type_params), j

    def read_wiring(self, i: int, name: str) -> tuple[Any, int]:
        """`"let" NAME "(" wire_inputs? ")" ARROW type_expr "=" "{" statement* "return" expr
        ";"? "}"`, with `wire_input: NAME ":" type_expr` and `statement: NAME "=" expr ";"?`."""
        texts = self.texts
        inputs = []
        j = i + 3
        if texts[j] != ")":
            while True:
                wire = j
                wire_name = self.name(wire)
                texpr, j = self.read_type(self.expect(wire + 1, ":"))
                inputs.append(new.WireInput(wire_name, texpr, self.span(wire, j - 1)))
                if texts[j] != ",":
                    break
                j += 1
        j = self.expect(j, ")")
        if texts[j] not in ARROWS:
            raise GiveUp
        cod, j = self.read_type(j + 1)
        j = self.expect(self.expect(j, "="), "{")
        statements = []
        while texts[j] != "return":
            first = j
            target = self.name(first)
            value, j = self.read_expr(self.expect(first + 1, "="))
            if texts[j] == ";":
                j += 1
            statements.append(new.Assign(target, value, self.span(first, j - 1)))
        result, j = self.read_expr(j + 1)
        if texts[j] == ";":
            j += 1
        j = self.expect(j, "}")
        span, name_span = self.span(i, j - 1), self.span(i + 1, i + 1)
        wires, steps = tuple(inputs), tuple(statements)
        return new.WiringDecl(name, wires, cod, steps, result, span, name_span), j

    def read_data(self, i: int) -> tuple[Any, int]:
        """`"data" NAME ":" type_expr "=" expr`."""
        name = self.name(i + 1)
        texpr, j = self.read_type(self.expect(i + 2, ":"))
        value, j = self.read_expr(self.expect(j, "="))
        span = self.span(i, j - 1)
        return new.DataDecl(name, texpr, value, span, self.span(i + 1, i + 1)), j

    def read_law(self, i: int) -> tuple[Any, int]:
        """`"law" soft_name law_range? ":" expr "==" expr ("within" number)?`, where
        `law_range: "over" "[" INT "," INT "]"`."""
        texts = self.texts
        name = texts[i + 1]
        if name not in SOFT_NAMES:
            self.name(i + 1)
        j = i + 2
        over = None
        if texts[j] == "over":
            lo, hi = texts[j + 2], texts[j + 4]
            if (
                texts[j + 1] != "["
                or not _is_int(lo)
                or texts[j + 3] != ","
                or not _is_int(hi)
                or texts[j + 5] != "]"
                or len(lo) > MAX_NUMBER_CHARS
                or len(hi) > MAX_NUMBER_CHARS
            ):
                raise GiveUp
            over = (int(lo), int(hi))
            j += 6
        lhs, j = self.read_expr(self.expect(j, ":"))
        rhs, j = self.read_expr(self.expect(j, "=="))
        tolerance = None
        if texts[j] == "within":
            tolerance = float(self.number(j + 1))
            j += 2
        span, name_span = self.span(i, j - 1), self.span(i + 1, i + 1)
        return new.LawDecl(name, lhs, rhs, tolerance, span, name_span, over), j

    def read_functor(self, i: int) -> tuple[Any, int]:
        """`"functor" NAME (":" NAME MAPSTO type_expr "," NAME MAPSTO expr)?`."""
        texts = self.texts
        name = self.name(i + 1)
        name_span = self.span(i + 1, i + 1)
        if texts[i + 2] != ":":
            return new.FunctorDecl(name, None, self.span(i, i + 1), name_span), i + 2
        obj_var = self.name(i + 3)
        if texts[i + 4] not in MAPSTO:
            raise GiveUp
        obj_map, j = self.read_type(i + 5)
        j = self.expect(j, ",")
        mor_var = self.name(j)
        if texts[j + 1] not in MAPSTO:
            raise GiveUp
        mor_map, j = self.read_expr(j + 2)
        maps = new.FunctorMaps(obj_var, obj_map, mor_var, mor_map)
        return new.FunctorDecl(name, maps, self.span(i, j - 1), name_span), j

    def read_natural(self, i: int) -> tuple[Any, int]:
        """`"natural" NAME ("[" type_expr "]")? ":" NAME NATURAL NAME "=" expr`."""
        texts, span = self.texts, self.span
        name = self.name(i + 1)
        at = None
        j = i + 2
        if texts[j] == "[":
            self.enter()
            at, j = self.read_type(j + 1)
            self.room += 1
            j = self.expect(j, "]")
        j = self.expect(j, ":")
        source, target = self.name(j), self.name(j + 2)
        if texts[j + 1] not in NATURALS:
            raise GiveUp
        body, end = self.read_expr(self.expect(j + 3, "="))
        return new.NaturalDecl(
            name,
            source,
            target,
            body,
            span(i, end - 1),
            span(i + 1, i + 1),
            span(j, j),
            span(j + 2, j + 2),
            at,
        ), end

    def read_structure(self, i: int) -> tuple[Any, int]:
        """`("monoid" | "preorder") NAME ":" type_expr "where" structure_field
        ("," structure_field)*`, with `structure_field: NAME "=" expr`."""
        texts = self.texts
        name = self.name(i + 1)
        carrier, j = self.read_type(self.expect(i + 2, ":"))
        j = self.expect(j, "where") - 1
        fields = []
        while True:
            first = j + 1
            field_name = self.name(first)
            value, j = self.read_expr(self.expect(first + 1, "="))
            span = self.span(first, j - 1)
            fields.append(new.StructureField(field_name, value, span, self.span(first, first)))
            if texts[j] != ",":
                break
        span, name_span = self.span(i, j - 1), self.span(i + 1, i + 1)
        return new.StructureDecl(texts[i], name, carrier, tuple(fields), span, name_span), j

    def read_category(self, i: int) -> tuple[Any, int]:
        """`("category" | "monoidal" "category") NAME ":" NAME ("," NAME)*`."""
        monoidal = self.texts[i] == "monoidal"
        at = self.expect(i + 1, "category") if monoidal else i + 1
        name = self.name(at)
        j = self.expect(at + 1, ":") - 1
        members = []
        while True:
            members.append((self.name(j + 1), self.span(j + 1, j + 1)))
            j += 2
            if self.texts[j] != ",":
                break
        span = self.span(i, j - 1)
        return new.CategoryDecl(name, monoidal, tuple(members), span, self.span(at, at)), j


def read_module(text: str, file: str) -> tuple[Any, ...]:
    """The items of `text`, as `parser.parse` would return them, or `GiveUp`."""
    try:
        return Reader(text, file).read_module()
    except (IndexError, RecursionError):
        raise GiveUp from None
