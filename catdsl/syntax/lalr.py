"""Parse straight into the AST: Lark's LALR tables and terminals driven by one loop that calls
the AST builder at each reduction, so no parse tree is built, walked and thrown away.

Lark with `propagate_positions` builds a `Tree` for every rule and finds each node's position
by scanning its children with `getattr`/`hasattr` (half of a large file's parse time); its
Transformer then walks the whole tree a second time. This driver keeps each value's position
beside it on the stack and gives every builder callback the span Lark would have given: a node
starts where its first child's text starts and ends where its last child's ends, counting the
tokens the tree drops (keywords, brackets) and the brackets around a child that a `?rule`
passed up. The AST is the same, node for node and span for span (tests/test_parser_fast.py).

The lexer is Lark's own union of terminal regexes, its groups made non-capturing and a last
alternative added that matches any one character: one `findall` cuts the whole text into
token texts that tile it (a character no terminal matches comes out as a token no state
expects), and each distinct text's terminal is read once (`_terminal`). Lines and columns
come from a running line number and a table of line starts. Only the tokens a builder reads
as tokens become `Token`s: the ones no rule keeps (keywords, brackets) are `None`, and the
ones only a text-reading rule takes next (`texts`) stay `str`.

It handles the programs that parse; anything else makes it give up (`GiveUp`) and the caller
parses again with Lark, so every diagnostic is worded exactly as before: a character no
terminal matches, a token the table does not expect, a literal the builder refuses (a syntax
error later in the file must win, as it does when the tree is built first), and a tree deeper
than `MAX_DEPTH`, near where Lark's recursive Transformer gives up.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

from lark import Lark, Token
from lark.lexer import UnlessCallback
from lark.parsers.lalr_analysis import Shift

MAX_DEPTH = 400
"""Deeper trees go to Lark, whose Transformer takes two Python frames per level and turns a
RecursionError into "nested too deeply" (E0003) at about 850 levels."""

Position = tuple[int, int, int, int, int]
"""A node's (line, column, end line, end column, tree depth), as a builder reads it."""

Place = tuple[int, int, int, int, int, int]
"""A value's place on the stack: its `Position`, then the parser's state after it."""

Builder = Callable[[Position, list[Any]], Any]
"""One AST callback: the node's position and its kept children."""


class GiveUp(Exception):
    """The fast path cannot build this text's AST; parse it with Lark instead."""


INLINE, PASS, CALL, UNIT, CALL1, SKIP1 = 0, 1, 2, 3, 4, 5
"""How a reduction builds its value: splice its children into the parent (`_rule`), pass a
single child up (`?rule` without an alias), call the rule's builder, or nothing at all (a
`?rule` of one symbol: the value and its position stay, only the state changes). The driver
splits calls of rules of one kept symbol: their value replaces the child's on the stack
(`CALL1`), or, for a builder that passes a node up unchanged, the child stays (`SKIP1`)."""

END = "$END"
"""The end of input, as Lark's tables name it."""

NO_TERMINAL = "\0"
"""The kind of a character no terminal matches: no state expects it, so the driver gives up."""


@dataclass(frozen=True)
class Rule:
    """One grammar rule as the driver needs it."""

    size: int
    origin: str
    kind: int
    name: str  # the builder to call: the alias or the rule's name
    include: tuple[tuple[int, bool], ...] | None  # kept children (index, splice); None: all
    trees: tuple[int, ...]  # the children that are rules (not tokens): they carry a depth


@dataclass(frozen=True)
class Tables:
    """Lark's tables in the driver's form: per state, a terminal or rule name to a code
    (>= 0: shift or go to that state; < 0: reduce rule ~code)."""

    actions: tuple[dict[str, int], ...]
    rules: tuple[Rule, ...]
    start: int
    end: int
    scan: re.Pattern[str]  # Lark's terminal union, then any one character
    split: re.Pattern[str]  # the same without groups: `findall` cuts the text into tokens
    kinds: tuple[str | None, ...]  # by a match's `lastindex`: its terminal (None: ignored)
    kept: frozenset[str]  # the terminals some rule keeps as a child: these become tokens
    gotos: tuple[dict[str, dict[str, int]], ...]  # see `_follow`; filled as the driver goes
    keywords: dict[str, UnlessCallback]  # NAME-like terminals whose value may be a keyword


@cache
def tables(lark: Lark) -> Tables | None:
    """The driver's tables for this Lark parser, or None when the parser uses a feature the
    driver does not reproduce, or when Lark's internals read here are not what this driver
    was written against (another Lark version): then every parse goes through Lark."""
    try:
        return _tables(lark)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError, re.error):
        return None


def _tables(lark: Lark) -> Tables | None:
    frontend = lark.parser
    lexer = frontend.lexer
    parser = frontend.parser.parser
    scanner = lexer.scanner  # built on first use; sets `lexer.callback`
    if lark.options.lexer_callbacks or lark.options.postlex is not None:
        return None
    if not all(isinstance(cb, UnlessCallback) for cb in lexer.callback.values()):
        return None
    table = parser.parse_table
    starts = list(table.start_states.values())
    if len(starts) != 1 or not isinstance(starts[0], int):
        return None
    rules: list[Rule] = []
    index: dict[Any, int] = {}
    kept: set[str] = set()
    for rule in lark.rules:
        if rule.options.template_source is not None:
            return None
        expansion = rule.expansion
        if not expansion and rule.origin.name not in table.start_states:
            return None  # an empty rule inside the tree: positions Lark leaves unset
        keep = rule.options.keep_all_tokens
        include = tuple(
            (i, not sym.is_term and sym.name.startswith("_"))
            for i, sym in enumerate(expansion)
            if keep or not (sym.is_term and getattr(sym, "filter_out", False))
        )
        kept.update(expansion[i].name for i, _ in include if expansion[i].is_term)
        if len(include) == len(expansion) and not any(splice for _, splice in include):
            include_or_all = None
        else:
            include_or_all = include
        name = rule.origin.name
        if name.startswith("_"):
            kind = INLINE
        elif rule.options.expand1 and not rule.alias:
            kind = UNIT if len(expansion) == 1 and include_or_all is None else PASS
        else:
            kind = CALL
        trees = tuple(i for i, sym in enumerate(expansion) if not sym.is_term)
        index[rule] = len(rules)
        rules.append(Rule(len(expansion), name, kind, rule.alias or name, include_or_all, trees))
    index_of = {rule.origin for rule in rules}  # the rules' names: the symbols one goes to
    actions: list[dict[str, int]] = []
    for state in range(len(table.states)):
        row: dict[str, int] = {}
        for symbol, (action, arg) in table.states[state].items():
            row[symbol] = arg if action is Shift else ~index[arg]
        actions.append(row)
    if any(row.get(END, -1) >= 0 for row in actions):
        return None  # Lark never shifts the end of input; the driver counts on it
    union = scanner._mres  # Lark tries these in order: one alternation does the same
    flags = {m.flags for m in union}
    if len(flags) != 1:
        return None
    flag = flags.pop()
    scan = re.compile("|".join(m.pattern for m in union) + f"|(?P<{_ANY}>(?s:.))", flag)
    plain = _without_groups(scan.pattern)
    if plain is None or flag & re.VERBOSE:
        return None
    split = re.compile(plain, flag)
    if split.groups:
        return None
    ignore = set(lexer.ignore_types)
    groups = {number: name for name, number in scan.groupindex.items()}
    kinds = tuple(
        None if groups.get(i) in ignore else NO_TERMINAL if groups.get(i) == _ANY else groups.get(i)
        for i in range(scan.groups + 1)
    )
    return Tables(
        tuple(actions),
        tuple(rules),
        starts[0],
        next(iter(table.end_states.values())),
        scan,
        split,
        kinds,
        frozenset(kept),
        tuple({name: {} for name in row if name in index_of} for row in actions),
        dict(lexer.callback),
    )


_ANY = "__catdsl_any_character"
"""The name of the scanner's last alternative: no terminal of the grammar matched here."""

_UNSUPPORTED = ("^", "$", "\\A", "\\Z", "\\b", "\\B", "(?=", "(?!", "(?<", "(?P=", "(?(", "(?#")


def _without_groups(pattern: str) -> str | None:
    """`pattern` with every group made non-capturing, so that `findall` returns the matched
    texts; None when it has an anchor, a lookaround or a back reference.

    Without those, what a regex matches at a place does not depend on the text around it, so
    a token's terminal is the first alternative that matches the token's text alone: the
    driver reads it from `scan.fullmatch(text)` once per distinct text."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if pattern[i + 1 : i + 2].isdigit() or pattern.startswith(_UNSUPPORTED, i):
                return None
            out.append(pattern[i : i + 2])
            i += 2
        elif ch == "[":  # a class: copied as it is (a `]` first in it is a literal)
            j = i + 1
            if pattern.startswith("^", j):
                j += 1
            if pattern.startswith("]", j):
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append(pattern[i : j + 1])
            i = j + 1
        elif pattern.startswith(_UNSUPPORTED, i):
            return None
        elif pattern.startswith("(?P<", i):
            out.append("(?:")
            i = pattern.index(">", i) + 1
        elif ch == "(" and not pattern.startswith("(?", i):
            out.append("(?:")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts, then the text's length (a sentinel)."""
    return [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1]), len(text) + 1]


def _follow(
    actions: tuple[dict[str, int], ...], units: dict[int, str], below: int, origin: str, kind: str
) -> int:
    """The state after going to `origin` from state `below`, and after every reduction of a
    `?rule` of one symbol that the next token, `kind`, then makes: those only change the state
    (their value and position are their child's), so the driver takes them all in one step,
    remembered per (state, rule, next token) in `Tables.gotos`."""
    state = actions[below][origin]
    while True:
        code = actions[state].get(kind)
        if code is None or code >= 0 or ~code not in units:
            return state
        state = actions[below][units[~code]]


ALL, ONE, SOME, SPLICE = 0, 1, 2, 3
"""How a reduction picks the children it keeps: all of them, one (by index), several (an
`itemgetter`), or with lists to splice in (the rule's `include`, walked)."""


def _picker(include: tuple[tuple[int, bool], ...] | None) -> tuple[int, Any]:
    """How to pick the kept children of a rule with this `include`, and what with."""
    if include is None:
        return ALL, None
    if any(splice for _, splice in include):
        return SPLICE, include
    if len(include) == 1:
        return ONE, include[0][0]
    if not include:
        return SOME, lambda kids: ()
    return SOME, itemgetter(*(i for i, _ in include))


def _terminal(
    text: str, scan: re.Pattern[str], kinds: tuple[str | None, ...], keywords: dict[str, Any]
) -> str:
    """The terminal of a token's text ("" for one Lark ignores), keywords retyped as Lark's
    lexer retypes them."""
    kind = kinds[scan.fullmatch(text).lastindex]  # type: ignore[union-attr,index]
    if kind is None:
        return ""
    if kind in keywords:
        return keywords[kind].scanner.fullmatch(text) or kind
    return kind


def parse_fast(
    text: str,
    lark: Lark,
    builders: dict[str, Builder],
    passes: frozenset[str] = frozenset(),
    texts: frozenset[str] = frozenset(),
) -> Any:
    """The value the builders make of `text` (the `start` rule's), or `GiveUp`.

    `passes` names builders that return their only child unchanged when that child is a node
    (not a token): for a rule of one symbol they are not called, the child stays as it is.
    `texts` names builders of a rule of one token that read only its text (`str(token)`): a
    token that only such a rule can take next is pushed as its text, no `Token` made."""
    t = tables(lark)
    if t is None:
        raise GiveUp
    actions, end_state, kinds, kept_kinds, keywords = t.actions, t.end, t.kinds, t.kept, t.keywords
    gotos = t.gotos
    units = {i: r.origin for i, r in enumerate(t.rules) if r.kind == UNIT}
    rules: list[tuple[int, str, int, int, Any, Any, bool]] = []
    for r in t.rules:
        how, call = r.kind, builders.get(r.name)
        if how == CALL and r.size == 1 and r.include is None:
            how = SKIP1 if r.name in passes else CALL1
        elif how != CALL and how != PASS:
            call = None
        rules.append((r.size, r.origin, how, *_picker(r.include), call, bool(r.trees)))
    text_rules = {
        i
        for i, r in enumerate(t.rules)
        if r.kind == CALL and r.size == 1 and not r.trees and r.include is None and r.name in texts
    }
    read_as_text = [
        bool(row) and all(code < 0 and ~code in text_rules for code in row.values())
        for row in actions
    ]
    line_starts = _line_starts(text)
    line, before_line, next_line = 1, -1, line_starts[1]  # before_line: its start less one
    known: dict[str, str] = {}  # a token's text to its terminal ("": ignored)
    scan, new_token, token_class = t.scan, str.__new__, Token
    is_a, max_depth, depth_of = isinstance, MAX_DEPTH, itemgetter(4)
    state = t.start
    values: list[Any] = [None]  # the bottom of the stack: the start state, no value
    places: list[Place] = [(0, 0, 0, 0, 0, state)]
    stop = 0
    try:
        for text_ in chain(t.split.findall(text), (None,)):
            if text_ is None:
                kind = END
            else:
                start = stop
                stop += len(text_)
                try:
                    kind = known[text_]
                except KeyError:
                    kind = known[text_] = _terminal(text_, scan, kinds, keywords)
                if not kind:
                    continue
                if start >= next_line:
                    line = bisect_right(line_starts, start)
                    before_line, next_line = line_starts[line - 1] - 1, line_starts[line]
                column = start - before_line
                if stop < next_line:
                    end_line, end_column = line, stop - before_line
                else:  # a token across lines
                    end_line = bisect_right(line_starts, stop)
                    end_column = stop - line_starts[end_line - 1] + 1
            while True:
                code = actions[state][kind]
                if code >= 0:
                    break  # a shift (no state shifts the end of input: see `_tables`)
                size, origin, rule_kind, picking, pick, call, trees = rules[~code]
                below = places[-size - 1][5] if size else state
                follow = gotos[below][origin]
                state = follow.get(kind)  # type: ignore[assignment]
                if state is None:
                    state = follow[kind] = _follow(actions, units, below, origin, kind)
                if rule_kind == UNIT:
                    here = places[-1]
                    places[-1] = (here[0], here[1], here[2], here[3], here[4], state)
                    continue
                if rule_kind >= CALL1:  # CALL1 or SKIP1: one child, kept: replaced in place
                    kid, here = values[-1], places[-1]
                    depth = here[4] + 1
                    if depth > max_depth:
                        raise GiveUp
                    places[-1] = here = (here[0], here[1], here[2], here[3], depth, state)
                    if rule_kind == CALL1 or is_a(kid, token_class):
                        values[-1] = call(here, [kid])
                    continue
                if size:
                    kids = values[-size:]
                    where = places[-size:]
                    del values[-size:], places[-size:]
                    first, last = where[0], where[-1]
                    depth = max(map(depth_of, where)) if trees else 0
                    node_place: Any = (first[0], first[1], last[2], last[3], depth, state)
                else:  # only the start rule is empty (see `_tables`): the end state follows
                    kids, node_place = [], None
                if picking == ALL:
                    kept = kids
                elif picking == ONE:
                    kept = [kids[pick]]
                elif picking == SOME:
                    kept = list(pick(kids))
                else:  # SPLICE
                    kept = []
                    for i, splice in pick:
                        if splice:
                            if kept:
                                kept += kids[i]
                            else:  # a left-recursive list grows in place, as in Lark: linear
                                kept = kids[i]
                        else:
                            kept.append(kids[i])
                if rule_kind == INLINE:
                    result: Any = kept
                elif rule_kind == PASS and len(kept) == 1:
                    result = kept[0]
                    if is_a(result, token_class):  # Lark widens only trees to the brackets
                        node_place = (
                            result.line,
                            result.column,
                            result.end_line,
                            result.end_column,
                            0,
                            state,
                        )
                else:
                    if call is None:
                        raise GiveUp
                    if node_place is not None:
                        depth = node_place[4] + 1
                        if depth > max_depth:
                            raise GiveUp
                        node_place = (*node_place[:4], depth, state)
                    result = call(node_place, kept)
                if state == end_state:
                    return result
                values.append(result)
                places.append(node_place)
            state = code
            if kind not in kept_kinds:
                values.append(None)
            elif read_as_text[code]:
                values.append(text_)
            else:
                token = new_token(token_class, text_)
                token.type = kind
                token.value = text_
                token.start_pos = start
                token.end_pos = stop
                token.line = line
                token.column = column
                token.end_line = end_line
                token.end_column = end_column
                values.append(token)
            places.append((line, column, end_line, end_column, 0, code))
    except KeyError:
        raise GiveUp from None  # a token (or the end) no state here expects
    raise GiveUp  # pragma: no cover - the end of input always reduces to the end state or fails
