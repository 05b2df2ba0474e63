"""A Pygments lexer for `.cat` programs, so the book, the docs and any Pygments user highlight
catdsl source (registered under the alias `catdsl`, with `cat`, for `*.cat` files).

The word lists are read from the language itself rather than written out here: keywords are
the grammar's literal words, carrier kinds come from their specs, primitives, initialisers and
training families from the standard library's registries. A keyword added to the grammar or a
primitive added to `std` is highlighted without touching this file.
"""

from __future__ import annotations

import re
from functools import cache

from pygments.lexer import RegexLexer, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from catdsl.std.init import INITIALISERS
from catdsl.std.library import PRIMITIVES
from catdsl.std.optim import FAMILIES
from catdsl.syntax.parser import lark_parser
from catdsl.typesys.carriers import CARRIER_KINDS

DECLARATIONS = frozenset(
    {"import", "dim", "object", "type", "param", "morphism", "let", "data", "law"}
    | {"functor", "natural", "monoid", "preorder", "category", "monoidal"}
)
"""The words that open a declaration (shown apart from the other keywords)."""
CONSTANTS = frozenset({"true", "false", "none"})
STRUCTURAL = frozenset({"id", "swap", "copy", "discard", "fst", "snd"})


@cache
def grammar_words() -> frozenset[str]:
    """Every word the grammar spells literally (`morphism`, `where`, `id`, …)."""
    found = set()
    for terminal in lark_parser().terminals:
        pattern = terminal.pattern
        if pattern.type == "str" and re.fullmatch(r"[A-Za-z_]+", pattern.value):
            found.add(pattern.value)
    return frozenset(found)


def _keywords() -> list[str]:
    return sorted(grammar_words() - DECLARATIONS - CONSTANTS - STRUCTURAL)


def _types() -> list[str]:
    return sorted({*CARRIER_KINDS, "Unit", *FAMILIES.state_types})


class CatLexer(RegexLexer):
    """catdsl source: declarations, carriers, std names, `>>` and `*` composition, numbers."""

    name = "catdsl"
    aliases = ["catdsl", "cat"]  # noqa: RUF012 (Pygments reads these as class attributes)
    filenames = ["*.cat"]  # noqa: RUF012
    mimetypes = ["text/x-catdsl"]  # noqa: RUF012

    tokens = {  # noqa: RUF012
        "root": [
            (r"[ \t\r\f]+", Whitespace),
            (r"\n", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"(\\\\|\\[^\\]|[^"\\])*"', String.Double),
            (words(sorted(DECLARATIONS), suffix=r"\b"), Keyword.Declaration),
            (words(sorted(CONSTANTS), suffix=r"\b"), Keyword.Constant),
            (words(sorted(STRUCTURAL), suffix=r"\b"), Name.Builtin.Pseudo),
            (words(_keywords(), prefix=r"\b", suffix=r"\b"), Keyword),
            (words(_types(), prefix=r"\b", suffix=r"\b"), Keyword.Type),
            (words(sorted(FAMILIES), prefix=r"\b", suffix=r"\b"), Name.Builtin),
            (words(sorted(PRIMITIVES), prefix=r"\b", suffix=r"\b"), Name.Function),
            (words(sorted(INITIALISERS), prefix=r"\b", suffix=r"\b"), Name.Function.Magic),
            (r"\?[A-Za-z_][A-Za-z0-9_]*|\?", Name.Variable.Magic),  # typed holes
            (r"[A-Z][A-Za-z0-9_']*", Name.Class),  # objects and morphisms
            (r"[a-z_][A-Za-z0-9_']*", Name),
            (r"([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r">>|->|→|\|->|↦|=>|⇒|==|<=|>=|!=|[*⊗×^=<>⟨⟩∘;+\-/|]", Operator),
            (r"[()\[\]{},:.]", Punctuation),
            (r".", Text),
        ]
    }
