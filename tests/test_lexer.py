"""The Pygments lexer for `.cat` (catdsl.frontend.lexer): it is found by alias and file name
through its entry point, every program of the repository lexes with no error token and no
unclassified text, and each kind of word gets its own token type."""

from __future__ import annotations

import pytest
from conftest import REPO
from pygments import lex
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Text, Whitespace

from catdsl.frontend.lexer import CatLexer, grammar_words

PROGRAMS = sorted(p for p in REPO.glob("programs/**/*.cat"))


def tokens(source: str) -> list[tuple[object, str]]:
    return [(kind, text) for kind, text in lex(source, CatLexer()) if kind is not Whitespace]


def test_the_lexer_is_registered_for_the_alias_and_the_extension():
    assert isinstance(get_lexer_by_name("catdsl"), CatLexer)
    assert isinstance(get_lexer_by_name("cat"), CatLexer)
    assert isinstance(get_lexer_for_filename("tiny_ml.cat"), CatLexer)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_program_lexes_with_nothing_left_unclassified(path):
    found = tokens(path.read_text())
    assert found
    stray = [text for kind, text in found if kind is Error or kind is Text]
    assert stray == []


def test_each_kind_of_word_has_its_token_type():
    found = dict(
        (text, kind)
        for kind, text in tokens(
            "import std.ml\n"
            "object Loss : Real where finite   # a loss\n"
            "param W : Real[4, 5] = course_init(seed = 2, scale = 0.2)\n"
            "let step = TrainStep(loss, examples, lr = 1.0)\n"
            "let p = Embedding >> softmax * id[TokenId] ^ 3\n"
            "law l : ?hole == swap within 1e-6\n"
        )
    )
    assert found["import"] in Keyword.Declaration and found["object"] in Keyword.Declaration
    assert found["where"] in Keyword and found["within"] in Keyword
    assert found["Real"] in Keyword.Type
    assert found["course_init"] in Name.Function.Magic
    assert found["TrainStep"] in Name.Builtin and found["softmax"] in Name.Function
    assert found["id"] in Name.Builtin.Pseudo and found["swap"] in Name.Builtin.Pseudo
    assert found["Embedding"] in Name.Class and found["step"] in Name
    assert found[">>"] in Operator and found["^"] in Operator
    assert found["?hole"] in Name.Variable.Magic
    assert found["1e-6"] in Number.Float and found["3"] in Number.Integer
    assert found["# a loss"] in Comment


def test_every_word_of_the_grammar_is_highlighted_as_a_keyword_or_builtin():
    for word in grammar_words():
        ((kind, text),) = tokens(word)
        assert text == word
        assert kind in Keyword or kind in Name.Builtin.Pseudo, (word, kind)
