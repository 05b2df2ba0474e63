"""Parse straight into the AST: Lark's LALR tables and terminals driven by one loop that calls
the AST builder at each reduction, so no parse tree is built, walked and thrown away.

Lark with `propagate_positions` builds a `Tree` for every rule and finds each node's position
by scanning its children with `getattr`/`hasattr` (half of a large file's parse time); its
Transformer then walks the whole tree a second time. This driver keeps each value's position
beside it on the stack and gives every builder callback the span Lark would have given: a node
starts where its first child's text starts and ends where its last child's ends, counting the
tokens the tree drops (keywords, brackets) and the brackets around a child that a `?rule`
passed up. The AST is the same, node for node and span for span (tests/test_parser_fast.py).

It handles the programs that parse; anything else makes it give up (`GiveUp`) and the caller
parses again with Lark, so every diagnostic is worded exactly as before: a character no
terminal matches, a token the table does not expect, a literal the builder refuses (a syntax
error later in the file must win, as it does when the tree is built first), and a tree deeper
than `MAX_DEPTH`, near where Lark's recursive Transformer gives up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Token
from lark.lexer import UnlessCallback
from lark.parsers.lalr_analysis import Shift

MAX_DEPTH = 400
"""Deeper trees go to Lark, whose Transformer takes two Python frames per level and turns a
RecursionError into "nested too deeply" (E0003) at about 850 levels."""

Position = tuple[int, int, int, int, int]
"""A value's (line, column, end line, end column, tree depth) on the stack."""

Builder = Callable[[Position, list[Any]], Any]
"""One AST callback: the node's position and its kept children."""


class GiveUp(Exception):
    """The fast path cannot build this text's AST; parse it with Lark instead."""


INLINE, PASS, CALL, UNIT = 0, 1, 2, 3
"""How a reduction builds its value: splice its children into the parent (`_rule`), pass a
single child up (`?rule` without an alias), call the rule's builder, or nothing at all (a
`?rule` of one symbol: the value and its position stay, only the state changes)."""


@dataclass(frozen=True)
class Rule:
    """One grammar rule as the driver needs it."""

    size: int
    origin: str
    kind: int
    name: str  # the builder to call: the alias or the rule's name
    include: tuple[tuple[int, bool], ...] | None  # kept children (index, splice); None: all


@dataclass(frozen=True)
class Tables:
    """Lark's tables in the driver's form: per state, a terminal or rule name to a code
    (>= 0: shift or go to that state; < 0: reduce rule ~code)."""

    actions: tuple[dict[str, int], ...]
    rules: tuple[Rule, ...]
    start: int
    end: int
    patterns: tuple[Any, ...]  # Lark's compiled union regexes of the terminals, in its order
    ignore: frozenset[str]
    newline: frozenset[str]
    keywords: dict[str, UnlessCallback]  # NAME-like terminals whose value may be a keyword


@cache
def tables(lark: Lark) -> Tables | None:
    """The driver's tables for this Lark parser, or None when the parser uses a feature the
    driver does not reproduce, or when Lark's internals read here are not what this driver
    was written against (another Lark version): then every parse goes through Lark."""
    try:
        return _tables(lark)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
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
        index[rule] = len(rules)
        rules.append(Rule(len(expansion), name, kind, rule.alias or name, include_or_all))
    actions: list[dict[str, int]] = []
    for state in range(len(table.states)):
        row: dict[str, int] = {}
        for symbol, (action, arg) in table.states[state].items():
            row[symbol] = arg if action is Shift else ~index[arg]
        actions.append(row)
    return Tables(
        tuple(actions),
        tuple(rules),
        starts[0],
        next(iter(table.end_states.values())),
        tuple(scanner._mres),
        frozenset(lexer.ignore_types),
        frozenset(lexer.newline_types),
        dict(lexer.callback),
    )


def _tokens(text: str, t: Tables) -> Iterator[Token]:
    """Lark's basic lexer, without its per-token bookkeeping: the same terminals tried in the
    same order, keywords retyped the same way, the same positions."""
    patterns = t.patterns
    single = patterns[0].match if len(patterns) == 1 else None
    ignore, newline, keywords = t.ignore, t.newline, t.keywords
    retyped: dict[tuple[str, str], str | None] = {}
    pos, line, line_start, n = 0, 1, 0, len(text)
    while pos < n:
        if single is not None:
            m = single(text, pos)
        else:
            for pattern in patterns:
                m = pattern.match(text, pos)
                if m:
                    break
        if not m:
            raise GiveUp
        kind = m.lastgroup
        end = m.end()
        assert kind is not None
        if kind in ignore:
            if kind in newline:
                count = text.count("\n", pos, end)
                if count:
                    line += count
                    line_start = text.rindex("\n", pos, end) + 1
            pos = end
            continue
        value = m.group(0)
        column = pos - line_start + 1
        if kind in newline:
            count = text.count("\n", pos, end)
            if count:
                line_end = line + count
                line_start = text.rindex("\n", pos, end) + 1
            else:
                line_end = line
        else:
            line_end = line
        if kind in keywords:
            key = (kind, value)
            if key in retyped:
                new = retyped[key]
            else:
                new = retyped[key] = keywords[kind].scanner.fullmatch(value)
            if new is not None:
                kind = new
        yield Token(kind, value, pos, line, column, line_end, end - line_start + 1, end)
        line = line_end
        pos = end


def parse_fast(text: str, lark: Lark, builders: dict[str, Builder]) -> Any:
    """The value the builders make of `text` (the `start` rule's), or `GiveUp`."""
    t = tables(lark)
    if t is None:
        raise GiveUp
    actions, end_state = t.actions, t.end
    rules = [
        (r.size, r.origin, r.kind, r.include, builders.get(r.name) if r.kind != UNIT else None)
        for r in t.rules
    ]
    states: list[int] = [t.start]
    values: list[Any] = []
    places: list[Position] = []
    for token in _tokens(text, t):
        kind = token.type
        while True:
            code = actions[states[-1]].get(kind)
            if code is None:
                raise GiveUp
            if code >= 0:
                break
            rule = rules[~code]
            if rule[2] == UNIT:
                states[-1] = actions[states[-2]][rule[1]]
            else:
                _reduce(rule, states, values, places, actions)
        states.append(code)
        values.append(token)
        places.append((token.line, token.column, token.end_line, token.end_column, 0))  # type: ignore[arg-type]
    while True:
        code = actions[states[-1]].get("$END")
        if code is None or code >= 0:
            raise GiveUp  # Lark never shifts the end of input
        _reduce(rules[~code], states, values, places, actions)
        if states[-1] == end_state:
            return values[-1]


def _reduce(
    rule: tuple[int, str, int, Any, Builder | None],
    states: list[int],
    values: list[Any],
    places: list[Position],
    actions: tuple[dict[str, int], ...],
) -> None:
    """One reduction: pop the rule's children, push its value, its position and its state."""
    size, origin, rule_kind, include, call = rule
    if rule_kind == UNIT:
        states[-1] = actions[states[-2]][origin]
        return
    if size:
        kids = values[-size:]
        where = places[-size:]
        del values[-size:], places[-size:], states[-size:]
    else:
        kids, where = [], []
    if include is None:
        kept = kids
    else:
        kept = []
        for i, splice in include:
            if splice:
                if kept:
                    kept += kids[i]
                else:  # a left-recursive list grows in place, as in Lark: linear
                    kept = kids[i]
            else:
                kept.append(kids[i])
    place: Any
    if size == 1:
        place = where[0]
    elif size:
        first, last = where[0], where[-1]
        place = (first[0], first[1], last[2], last[3], max([w[4] for w in where]))
    else:
        place = None
    if rule_kind == INLINE:
        value: Any = kept
    elif rule_kind == PASS and len(kept) == 1:
        value = kept[0]
        if isinstance(value, Token):  # Lark widens only trees to the brackets around them
            place = (value.line, value.column, value.end_line, value.end_column, 0)
    else:
        if call is None:
            raise GiveUp
        if place is not None:
            depth = place[4] + 1
            if depth > MAX_DEPTH:
                raise GiveUp
            place = (place[0], place[1], place[2], place[3], depth)
        value = call(place, kept)
    states.append(actions[states[-1]][origin])
    values.append(value)
    places.append(place)
