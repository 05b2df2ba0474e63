"""Text to AST: the Lark LALR parser (from tables shipped as JSON, never from a pickle: see
`lark_parser`) and one Transformer into frozen dataclasses.

Parse errors never escape as Lark exceptions: they become worded `Diagnostic`s
(see `parse_errors.py`).
"""

from __future__ import annotations

import math
import re
import sys
from functools import cache
from itertools import accumulate, islice, repeat
from operator import sub
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput, VisitError
from lark.tree import Meta

from catdsl.errors import Diagnostic, Span
from catdsl.syntax import ast, descent
from catdsl.syntax import fastnew as new
from catdsl.syntax.descent import MAX_NUMBER_CHARS
from catdsl.syntax.lalr import GiveUp, parse_fast
from catdsl.syntax.parse_errors import (
    STRING_ESCAPES,
    bad_escape,
    control_in_path,
    describe_parse_error,
    number_too_large,
)

MAX_NESTING = 200

Place = tuple[int, ...]
"""Where a node is: (line, column, end line, end column, ...), as the parser hands it over."""


def grammar_path() -> Path:
    """The grammar: top-level `grammars/` in a checkout, inside the package when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "grammars" / "catdsl.lark", here.parent / "grammars" / "catdsl.lark"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("catdsl.lark grammar not found")


LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "propagate_positions": True,
    "maybe_placeholders": False,
}
TABLES = Path(__file__).resolve().parent / "grammar_tables.json"


@cache
def lark_parser() -> Lark:
    """The LALR parser: from the tables shipped in the package when they were made from this
    very grammar text by this Lark version (about 0.02 s), else built from the grammar (0.1 s
    to 0.3 s).

    Nothing here is unpickled and nothing depends on the environment: Lark's own cache is a
    pickle, and unpickling a file that someone else can write (it lived under
    `$XDG_CACHE_HOME`) runs their code. The tables are JSON, which holds only data, beside this
    module."""
    text = grammar_path().read_text(encoding="utf-8")
    parser = _from_tables(text)
    if parser is None:
        parser = Lark(text, cache=False, **LARK_OPTIONS)
    return parser


def _tables_key(text: str) -> dict[str, str]:
    """What the tables were made from: the grammar text and the Lark version."""
    import hashlib

    import lark

    return {
        "grammar_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "lark": lark.__version__,
    }


@cache
def descent_applies() -> bool:
    """Whether `descent.py` reads this grammar: it was written for one grammar text."""
    text = grammar_path().read_text(encoding="utf-8")
    return _tables_key(text)["grammar_sha256"] == descent.GRAMMAR_SHA256


def _from_tables(text: str) -> Lark | None:
    """The parser from `TABLES`, or None when they are missing, unreadable or stale."""
    import json

    try:
        raw = TABLES.read_text(encoding="utf-8")
        tables = json.loads(raw, object_pairs_hook=_json_object)
        if tables.get("key") != _tables_key(text) or tables.get("options") != LARK_OPTIONS:
            return None
        return Lark._load_from_dict(tables["data"], tables["memo"])
    except (OSError, ValueError, KeyError, TypeError, LarkError):
        return None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[Any, Any]:
    """Undo what JSON does to Lark's serialized tables: integer keys and one tuple field."""
    obj = {int(k) if k.isdigit() else k: v for k, v in pairs}
    if isinstance(obj.get("empty_indices"), list):
        obj["empty_indices"] = tuple(obj["empty_indices"])
    return obj


def write_tables() -> Path:
    """Write `TABLES` from the grammar (`python -m catdsl.syntax.parser` after a grammar or
    Lark change; `tests/test_security.py` checks they are current)."""
    import json

    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    text = grammar_path().read_text(encoding="utf-8")
    data, memo = Lark(text, cache=False, **LARK_OPTIONS).memo_serialize([TerminalDef, Rule])
    tables = {"key": _tables_key(text), "options": LARK_OPTIONS, "data": data, "memo": memo}
    TABLES.write_text(json.dumps(tables) + "\n", encoding="utf-8")
    return TABLES


class _LiteralError(Exception):
    """A literal that lexes but cannot be read; carries its diagnostic out of the Transformer."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _ToAst(Transformer):
    """Lark tree to AST; one `r_<rule>` method per grammar rule or alias.

    Every rule goes through `__default__`, which Lark calls with the node's meta: cheaper than
    `v_args(meta=True)`, which wraps each callback anew on every call."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self._span = new.span_maker(file)  # a node's span from its place (None: 1:1)
        self._rules = {name[2:]: getattr(self, name) for name in dir(self) if name.startswith("r_")}

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:
        if getattr(meta, "empty", True):
            return self._rules[data](None, children)
        place = (meta.line, meta.column, meta.end_line, meta.end_column)
        return self._rules[data](place, children)

    def builders(self) -> dict[str, Any]:
        """The callbacks by rule name, for the driver that builds the AST while parsing."""
        return self._rules

    PASSES = frozenset({"type_product", "dim_sum"})
    """The builders that return their only child unchanged when it is a node, not a token:
    the driver need not call them for a rule of one symbol."""

    TEXTS = frozenset(
        {"name", "type_name", "hole", "type_param", "flag", "cmp", "addop", "struct_kw", "bool"}
    )
    """The builders of a rule of one token that read only the token's text (`str`): the
    driver may hand them the text instead of a `Token`."""

    def _tspan(self, tok: Token) -> Span:
        """Where a name token is (the lexer sets every position of the tokens it reads)."""
        assert tok.line is not None and tok.column is not None
        assert tok.end_line is not None and tok.end_column is not None
        return new.Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    # -- literals
    def _number(self, token: Token) -> int | float:
        """A number token's value; one that no dim, count, power, seed or real can hold
        (beyond about 1.8e308) is refused at the literal."""
        text = str(token)
        if len(text) > MAX_NUMBER_CHARS:
            raise _LiteralError(number_too_large(text, self._tspan(token)))
        value: int | float
        try:
            value = int(text) if token.type == "INT" else float(text)
            finite = math.isfinite(float(value))
        except (OverflowError, ValueError):
            finite = False
        if not finite:
            raise _LiteralError(number_too_large(text, self._tspan(token)))
        return value

    def _string(self, token: Token) -> str:
        """A string token's text: its escapes (backslash, quote, `n`, `t`) decoded, any other
        one refused at its backslash. Strings are file paths: control characters are refused."""
        span = self._tspan(token)
        raw = str(token)[1:-1]
        out: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\":
                nxt = raw[i + 1] if i + 1 < len(raw) else ""
                if nxt not in STRING_ESCAPES:
                    at = Span(
                        self.file, span.line, span.column + 1 + i, span.line, span.column + 3 + i
                    )
                    raise _LiteralError(bad_escape("\\" + nxt, at))
                out.append(STRING_ESCAPES[nxt])
                i += 2
                continue
            out.append(ch)
            i += 1
        text = "".join(out)
        for ch in text:
            if ord(ch) < 32 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0:
                raise _LiteralError(control_in_path(ch, span))
        return text

    # -- items
    def r_start(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        # a finite ordered object is its declaration and one point per element
        return tuple(x for c in children for x in (c if isinstance(c, tuple) else (c,)))

    def r_import_module(self, meta: Place, children: list[Any]) -> ast.ImportModule:
        return new.ImportModule(children[0], self._span(meta))

    def r_import_file(self, meta: Place, children: list[Any]) -> ast.ImportFile:
        return new.ImportFile(self._string(children[0]), self._span(meta))

    def r_dotted_name(self, meta: Place, children: list[Any]) -> str:
        return ".".join(str(c) for c in children)

    def r_dim_decl(self, meta: Place, children: list[Any]) -> ast.DimDecl:
        value = children[1] if len(children) > 1 else None
        return new.DimDecl(str(children[0]), value, self._span(meta), self._tspan(children[0]))

    def r_object_decl(self, meta: Place, children: list[Any]) -> ast.ObjectDecl:
        name, carrier, *rest = children
        where = rest[0] if rest else ()
        return new.ObjectDecl(str(name), carrier, where, self._span(meta), self._tspan(name))

    def r_ordered_object_decl(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        """`object Level : Observation < Feature < Score`: an object over `Index[3]` whose
        elements, least first, are also declared as its points (`data Feature : Level = 1`)."""
        name, *elements = children
        span = self._span(meta)
        size = new.TInt(len(elements), span)
        carrier = new.TApply("Index", (size,), span)
        names = tuple(str(e) for e in elements)
        decl = new.ObjectDecl(str(name), carrier, (), span, self._tspan(name), names)
        points = tuple(
            new.DataDecl(
                str(e),
                new.TName(str(name), self._tspan(e)),
                new.Literal(i, self._tspan(e)),
                self._tspan(e),
                self._tspan(e),
            )
            for i, e in enumerate(elements)
        )
        return (decl, *points)

    def r_where_clause(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_compare(self, meta: Place, children: list[Any]) -> ast.Predicate:
        left, op, right = children
        return new.Predicate(_pred(left), op, _pred(right), self._span(meta))

    def r_flag(self, meta: Place, children: list[Any]) -> ast.Predicate:
        return new.Predicate(str(children[0]), None, None, self._span(meta))

    def r_member_predicate(self, meta: Place, children: list[Any]) -> ast.Predicate:
        quantity, members = children
        return new.Predicate(str(quantity), "in", str(members), self._span(meta))

    def r_neg(self, meta: Place, children: list[Any]) -> int | float:
        return -children[0]

    def r_cmp(self, meta: Place, children: list[Any]) -> str:
        return str(children[0])

    def r_type_decl(self, meta: Place, children: list[Any]) -> ast.TypeDecl:
        name, texpr = children
        return new.TypeDecl(str(name), texpr, self._span(meta), self._tspan(name))

    def r_param_decl(self, meta: Place, children: list[Any]) -> ast.ParamDecl:
        name, texpr, init = children
        return new.ParamDecl(str(name), texpr, init, self._span(meta), self._tspan(name))

    def r_morphism_decl(self, meta: Place, children: list[Any]) -> ast.MorphismDecl:
        name = children[0]
        rest = list(children[1:])
        params: tuple = ()
        if rest and isinstance(rest[0], tuple):
            params = rest.pop(0)
        dom, _arrow, cod, *body = rest
        return new.MorphismDecl(
            str(name),
            tuple(p for p in params if isinstance(p, ast.PortDecl)),
            dom,
            cod,
            body[0] if body else None,
            self._span(meta),
            self._tspan(name),
            tuple(p for p in params if isinstance(p, str)),
        )

    def r_port_list(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_port(self, meta: Place, children: list[Any]) -> ast.PortDecl:
        return new.PortDecl(str(children[0]), children[1], self._span(meta))

    def r_type_param(self, meta: Place, children: list[Any]) -> str:
        return str(children[0])

    def r_type_params(self, meta: Place, children: list[Any]) -> tuple[str, ...]:
        return tuple(str(c) for c in children)

    def r_let_decl(self, meta: Place, children: list[Any]) -> ast.LetDecl:
        name = children[0]
        rest = list(children[1:])
        params: tuple[str, ...] = ()
        if isinstance(rest[0], tuple):
            params = rest.pop(0)
        if len(rest) == 1:
            return new.LetDecl(
                str(name), None, None, rest[0], self._span(meta), self._tspan(name), params
            )
        dom, _arrow, cod, body = rest
        return new.LetDecl(str(name), dom, cod, body, self._span(meta), self._tspan(name), params)

    def r_wiring_decl(self, meta: Place, children: list[Any]) -> ast.WiringDecl:
        name = children[0]
        rest = list(children[1:])
        inputs: tuple = ()
        if rest and isinstance(rest[0], tuple):
            inputs = rest.pop(0)
        _arrow, cod, *stmts, result = rest
        return new.WiringDecl(
            str(name), inputs, cod, tuple(stmts), result, self._span(meta), self._tspan(name)
        )

    def r_wire_inputs(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_wire_input(self, meta: Place, children: list[Any]) -> ast.WireInput:
        return new.WireInput(str(children[0]), children[1], self._span(meta))

    def r_statement(self, meta: Place, children: list[Any]) -> ast.Assign:
        return new.Assign(str(children[0]), children[1], self._span(meta))

    def r_data_decl(self, meta: Place, children: list[Any]) -> ast.DataDecl:
        name, texpr, value = children
        return new.DataDecl(str(name), texpr, value, self._span(meta), self._tspan(name))

    def r_law_decl(self, meta: Place, children: list[Any]) -> ast.LawDecl:
        name, *rest = children
        over = rest.pop(0) if isinstance(rest[0], tuple) else None
        lhs, rhs, *tol = rest
        tolerance = float(tol[0]) if tol else None
        span, name_span = self._span(meta), self._tspan(name)
        return new.LawDecl(str(name), lhs, rhs, tolerance, span, name_span, over)

    def r_law_range(self, meta: Place, children: list[Any]) -> tuple[int, int]:
        """`over [lo, hi]`: each bound is refused at its literal when no count can hold it."""
        lo, hi = children
        return (int(self._number(lo)), int(self._number(hi)))

    # -- declarations that carry their laws
    def r_functor_decl(self, meta: Place, children: list[Any]) -> ast.FunctorDecl:
        name = children[0]
        if len(children) == 1:  # `functor List`: a built-in functor, by name
            return new.FunctorDecl(str(name), None, self._span(meta), self._tspan(name))
        _, obj_var, _to, obj_map, mor_var, _to2, mor_map = children
        maps = new.FunctorMaps(str(obj_var), obj_map, str(mor_var), mor_map)
        return new.FunctorDecl(str(name), maps, self._span(meta), self._tspan(name))

    def r_natural_decl(self, meta: Place, children: list[Any]) -> ast.NaturalDecl:
        name, *rest = children
        at = rest.pop(0) if len(rest) == 5 else None
        source, _arrow, target, body = rest
        return new.NaturalDecl(
            str(name),
            str(source),
            str(target),
            body,
            self._span(meta),
            self._tspan(name),
            self._tspan(source),
            self._tspan(target),
            at,
        )

    def r_natural_at(self, meta: Place, children: list[Any]) -> ast.TypeExpr:
        return children[0]

    def _structure(self, kind: str, meta: Place, children: list[Any]) -> ast.StructureDecl:
        name, carrier, fields = children
        return new.StructureDecl(
            kind, str(name), carrier, fields, self._span(meta), self._tspan(name)
        )

    def r_monoid_decl(self, meta: Place, children: list[Any]) -> ast.StructureDecl:
        return self._structure("monoid", meta, children)

    def r_preorder_decl(self, meta: Place, children: list[Any]) -> ast.StructureDecl:
        return self._structure("preorder", meta, children)

    def r_category_decl(self, meta: Place, children: list[Any]) -> ast.CategoryDecl:
        kind, name, *objects = children
        members = tuple((str(o), self._tspan(o)) for o in objects)
        return new.CategoryDecl(str(name), kind, members, self._span(meta), self._tspan(name))

    def r_category_kind(self, meta: Place, children: list[Any]) -> bool:
        return str(children[0]) == "monoidal"

    def r_structure_fields(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_structure_field(self, meta: Place, children: list[Any]) -> ast.StructureField:
        name, value = children
        return new.StructureField(str(name), value, self._span(meta), self._tspan(name))

    # -- types
    def r_type_name(self, meta: Place, children: list[Any]) -> ast.TName:
        return new.TName(str(children[0]), self._span(meta))

    def r_type_apply(self, meta: Place, children: list[Any]) -> ast.TApply:
        return new.TApply(str(children[0]), children[1], self._span(meta))

    def r_type_call(self, meta: Place, children: list[Any]) -> ast.TCall:
        args = children[1] if len(children) > 1 else ()
        return new.TCall(str(children[0]), args, self._span(meta))

    def r_dim_int(self, meta: Place, children: list[Any]) -> ast.TInt:
        return new.TInt(int(self._number(children[0])), self._span(meta))

    def r_type_args(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_type_product(self, meta: Place, children: list[Any]) -> ast.TypeExpr:
        items = tuple(c for c in children if not isinstance(c, Token))
        return items[0] if len(items) == 1 else new.TProduct(items, self._span(meta))

    def r_dim_sum(self, meta: Place, children: list[Any]) -> ast.TypeExpr:
        items = tuple(c for c in children if not isinstance(c, str))
        ops = tuple(c for c in children if isinstance(c, str))
        return items[0] if len(items) == 1 else new.TSum(items, ops, self._span(meta))

    def r_addop(self, meta: Place, children: list[Any]) -> str:
        return str(children[0])

    # -- expressions
    def r_compose(self, meta: Place, children: list[Any]) -> ast.Compose:
        parts = tuple(c for c in children if not isinstance(c, Token))
        return new.Compose(parts, self._span(meta))

    def r_tensor(self, meta: Place, children: list[Any]) -> ast.Tensor:
        parts = tuple(c for c in children if not isinstance(c, Token))
        return new.Tensor(parts, self._span(meta))

    def r_power(self, meta: Place, children: list[Any]) -> ast.Power:
        base, _pow, exponent = children
        value: int | str = int(self._number(exponent)) if exponent.type == "INT" else str(exponent)
        return new.Power(base, value, self._span(meta), self._tspan(exponent))

    def r_call(self, meta: Place, children: list[Any]) -> ast.Call:
        args = children[1] if len(children) > 1 else ()
        return new.Call(children[0], args, self._span(meta))

    def r_bracket(self, meta: Place, children: list[Any]) -> ast.Bracket:
        return new.Bracket(children[0], children[1], self._span(meta))

    def r_name(self, meta: Place, children: list[Any]) -> ast.Name:
        return new.Name(str(children[0]), self._span(meta))

    def r_and_name(self, meta: Place, children: list[Any]) -> ast.Name:
        """`and` where a morphism is expected: the primitive of std.logic, not the keyword."""
        return new.Name("and", self._span(meta))

    def r_pairing(self, meta: Place, children: list[Any]) -> ast.Pairing:
        parts = tuple(c for c in children if c is not None and not isinstance(c, str | Token))
        return new.Pairing(parts, self._span(meta))

    def r_langle(self, meta: Place, children: list[Any]) -> str:
        return "<"

    def r_rangle(self, meta: Place, children: list[Any]) -> str:
        return ">"

    def r_hole(self, meta: Place, children: list[Any]) -> ast.Hole:
        text = str(children[0])
        return new.Hole(text[1:] or None, self._span(meta))

    def r_structural(self, meta: Place, children: list[Any]) -> ast.Structural:
        return new.Structural(str(children[0]), children[1], self._span(meta))

    def r_struct_kw(self, meta: Place, children: list[Any]) -> str:
        return str(children[0])

    def r_call_args(self, meta: Place, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def r_positional_arg(self, meta: Place, children: list[Any]) -> ast.Arg:
        return new.Arg(None, children[0], self._span(meta))

    def r_keyword_arg(self, meta: Place, children: list[Any]) -> ast.Arg:
        return new.Arg(str(children[0]), children[1], self._span(meta))

    def r_number(self, meta: Place, children: list[Any]) -> int | float:
        return self._number(children[0])

    def r_number_literal(self, meta: Place, children: list[Any]) -> ast.Literal:
        return new.Literal(children[0], self._span(meta))

    def r_negative_literal(self, meta: Place, children: list[Any]) -> ast.Literal:
        return new.Literal(-children[0], self._span(meta))

    def r_string_literal(self, meta: Place, children: list[Any]) -> ast.Literal:
        return new.Literal(self._string(children[0]), self._span(meta))

    def r_bool(self, meta: Place, children: list[Any]) -> bool:
        return str(children[0]) == "true"

    def r_bool_literal(self, meta: Place, children: list[Any]) -> ast.Literal:
        return new.Literal(children[0], self._span(meta))

    def r_list_literal(self, meta: Place, children: list[Any]) -> ast.ListLiteral:
        return new.ListLiteral(tuple(children), self._span(meta))


def _pred(value: Token | float) -> str | float:
    if isinstance(value, Token):
        return str(value)  # a NAME: numbers arrive read by `r_number`
    return float(value)


_BRACKETS = re.compile(r'#[^\n]*|"[^"]*"?|[(\[{⟨]|[)\]}⟩]')
"""What `_nesting_error` looks at: comments and strings (skipped; a string runs to the next
quote, across lines) and brackets."""
_BRACKET_RUNS = re.compile(r'[^#"(\[{⟨)\]}⟩]*+(#[^\n]*|"[^"]*"?|[(\[{⟨]|[)\]}⟩])?')
"""The same, each after the text before it (one match per bracket, comment or string, and
one empty group at the end): `findall` then does not try every character as a start."""


_STEPS = {"(": 1, "[": 1, "{": 1, "⟨": 1, ")": -1, "]": -1, "}": -1, "⟩": -1}


def _nesting_error(text: str, file: str) -> Diagnostic | None:
    """Reject absurd nesting before Lark's recursive tree walk can overflow the stack.

    The depth after each bracket is the running sum of +1s and -1s less its lowest point so
    far (a closing bracket at depth 0 leaves it at 0): sums and minima taken without a Python
    step per bracket. Only a file nested too deeply is walked bracket by bracket, to find
    where."""
    sums = list(accumulate(map(_STEPS.get, _BRACKET_RUNS.findall(text), repeat(0))))
    lows = islice(accumulate(sums, min, initial=0), 1, None)
    if max(map(sub, sums, lows), default=0) <= MAX_NESTING:
        return None
    depth = 0
    for m in _BRACKETS.finditer(text):
        ch = m.group()
        if ch in "([{⟨":
            depth += 1
            if depth > MAX_NESTING:
                at = m.start()
                line = text.count("\n", 0, at) + 1
                col = at - (text.rfind("\n", 0, at) + 1) + 1
                return Diagnostic(
                    "E0003",
                    f"brackets nested more than {MAX_NESTING} deep",
                    Span.point(file, line, col),
                    help="name the inner parts with `let` and compose the names",
                )
        elif ch in ")]}⟩":
            depth = max(depth - 1, 0)
    return None


def _read_plain(text: str, file: str) -> ast.Module | None:
    """The module as the recursive-descent reader reads it, or None when it gives up (not a
    plain program: the LALR driver, then Lark, read it). What the reader reads nests no
    deeper than its room, far below MAX_NESTING."""
    if not descent_applies():
        return None
    try:
        return ast.Module(file, descent.read_module(text, file))
    except GiveUp:
        return None


def parse(text: str, file: str = "<string>") -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module, or None and the diagnostics.

    A lone CR ends a line as LF and CRLF do (old Mac files), so lines count as editors show."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    plain = _read_plain(text, file)
    if plain is not None:
        return plain, []
    nesting = _nesting_error(text, file)
    if nesting:
        return None, [nesting]
    try:
        items = parse_fast(
            text, lark_parser(), _ToAst(file).builders(), _ToAst.PASSES, _ToAst.TEXTS
        )
        return ast.Module(file, items), []
    except (GiveUp, _LiteralError):
        pass  # not a plain program: Lark parses it again and words the diagnostic
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as err:
        return None, [describe_parse_error(err, text, file, lark_parser())]
    except LarkError as err:  # pragma: no cover - defensive: any other Lark failure
        return None, [Diagnostic("E0001", f"cannot parse: {err}", Span.point(file, 1, 1))]
    old_limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(old_limit, 4 * MAX_NESTING + 1000))
        items = _ToAst(file).transform(tree)
    except _LiteralError as err:
        return None, [err.diagnostic]
    except (RecursionError, VisitError) as err:
        cause = err.orig_exc if isinstance(err, VisitError) else err
        if isinstance(cause, _LiteralError):
            return None, [cause.diagnostic]
        if not isinstance(cause, RecursionError):
            raise
        return None, [
            Diagnostic(
                "E0003",
                "the program is nested too deeply to read",
                Span.point(file, 1, 1),
                help="split long expressions with `let` definitions",
            )
        ]
    finally:
        sys.setrecursionlimit(old_limit)
    return ast.Module(file, items), []


if __name__ == "__main__":
    print(f"wrote {write_tables()}")
