"""Params and data points: initialisers, literals, loaded files."""

from __future__ import annotations

from pathlib import Path

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.check_base import (
    INITIALISERS,
    Failed,
    dim_bindings,
    flatten,
    literal_shape,
)
from catdsl.typesys.program import Definition, ParamInfo
from catdsl.typesys.types import (
    ARRAY_KINDS,
    UNIT,
    Carrier,
    Prod,
    carrier_of,
)
from catdsl.typesys.unify import Subst


class ValuesMixin:
    """Params and data points: initialisers, literals, loaded files."""

    # ================================================================ params and data
    def _decl_param(self, decl: ast.ParamDecl) -> ParamInfo:
        t = self.reader.type(decl.type)
        if len(t) != 1 or not isinstance(t.atoms[0], Carrier) or t.atoms[0].kind != "Real":
            self.error(
                "E0408",
                f"param `{decl.name}` must be a real array, e.g. `Real[V, D]`",
                decl.type.span,
            )
            raise Failed
        carrier = t.atoms[0]
        free = [str(d) for d in carrier.shape.dims if d.value is None]
        if free:
            self.error(
                "E0409",
                f"param `{decl.name}` needs a fixed size, but `{free[0]}` is free",
                decl.type.span,
                help=f"give it a size: `dim {free[0]} = 8`",
            )
            raise Failed
        order = self.position[decl.name]
        init = decl.init
        if isinstance(init, ast.Name) and init.name in INITIALISERS:
            return ParamInfo(decl.name, carrier, init.name, (), span=decl.span, order=order)
        if isinstance(init, ast.Call) and isinstance(init.func, ast.Name):
            fname = init.func.name
            if fname == "load":
                path = self._load_path(init)
                return ParamInfo(decl.name, carrier, "load", path=path, span=decl.span, order=order)
            if fname in INITIALISERS:
                kwargs = self._init_kwargs(fname, init)
                return ParamInfo(decl.name, carrier, fname, kwargs, span=decl.span, order=order)
        if isinstance(init, ast.ListLiteral | ast.Literal):
            value = self._literal(init)
            self._check_literal_shape(value, carrier, init.span, decl.name)
            return ParamInfo(
                decl.name, carrier, "literal", literal=value, span=decl.span, order=order
            )
        self.error(
            "E0410",
            f"cannot initialise param `{decl.name}` with this expression",
            init.span,
            help="use an initialiser (`zeros`, `ones`, `normal(mean, std, seed)`, "
            "`uniform(low, high, seed)`, `course_init(seed, scale)`), a literal array, "
            'or `load("file.npy")`',
        )
        raise Failed

    def _init_kwargs(self, fname: str, call: ast.Call) -> tuple[tuple[str, object], ...]:
        allowed = {
            "zeros": (),
            "ones": (),
            "normal": ("mean", "std", "seed"),
            "uniform": ("low", "high", "seed"),
            "course_init": ("seed", "scale"),
        }[fname]
        out: dict[str, object] = {}
        for i, arg in enumerate(call.args):
            key = arg.name if arg.name is not None else (allowed[i] if i < len(allowed) else None)
            if key is None or key not in allowed:
                self.error(
                    "E0411",
                    f"`{fname}` has no argument {key or i + 1!r}",
                    arg.span,
                    help=f"`{fname}` takes {', '.join(allowed) or 'no arguments'}",
                )
                raise Failed
            out[key] = self._number(arg.value)
        return tuple(out.items())

    def _number(self, expr: ast.Expr) -> float | int:
        if (
            isinstance(expr, ast.Literal)
            and isinstance(expr.value, int | float)
            and not isinstance(expr.value, bool)
        ):
            return expr.value
        self.error("E0412", "expected a number", expr.span)
        raise Failed

    def _load_path(self, call: ast.Call) -> str:
        if (
            len(call.args) != 1
            or not isinstance(call.args[0].value, ast.Literal)
            or not isinstance(call.args[0].value.value, str)
        ):
            self.error("E0413", '`load` takes one file name: `load("x.npy")`', call.span)
            raise Failed
        path = call.args[0].value.value
        if not path.endswith((".npy", ".npz")):
            self.error(
                "E0413",
                f"`load` reads .npy or .npz files, not `{path}`",
                call.args[0].span,
                help="save arrays with numpy.save or numpy.savez",
            )
            raise Failed
        base = Path(call.span.file).parent if call.span.file not in ("<string>", "") else Path.cwd()
        return str((base / path).resolve())

    def _literal(self, expr: ast.Expr) -> object:
        if isinstance(expr, ast.Literal):
            if isinstance(expr.value, str):
                self.error("E0414", "a string is not a value here", expr.span)
                raise Failed
            return expr.value
        if isinstance(expr, ast.ListLiteral):
            return tuple(self._literal(item) for item in expr.items)
        self.error("E0414", "expected a literal number, `true`/`false`, or a list", expr.span)
        raise Failed

    def _check_literal_shape(self, value: object, carrier: Carrier, span: Span, name: str) -> None:
        shape = literal_shape(value)
        if shape is None:
            self.error(
                "E0415", f"the literal for `{name}` is ragged (rows of different lengths)", span
            )
            raise Failed
        expected = carrier.shape.dims
        if len(shape) != len(expected):
            self.error(
                "E0415",
                f"`{name}` expects rank {len(expected)} (`{carrier}`), "
                f"the literal has rank {len(shape)}",
                span,
            )
            raise Failed
        for got, want in zip(shape, expected, strict=True):
            if want.value is not None and got != want.value:
                self.error(
                    "E0415",
                    f"`{name}` expects shape `{carrier}`{dim_bindings(carrier)}, but the literal "
                    f"is {' x '.join(map(str, shape))}",
                    span,
                )
                raise Failed

    def _decl_data(self, decl: ast.DataDecl) -> Definition:
        t = self.reader.type(decl.type)
        value = decl.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.name == "load"
        ):
            path = self._load_path(value)
            term = T.Const(UNIT, t, decl.span, name=decl.name, path=path)
        elif isinstance(value, ast.ListLiteral | ast.Literal):
            literal = self._literal(value)
            self._check_data_literal(literal, t, value.span, decl.name)
            term = T.Const(UNIT, t, decl.span, name=decl.name, value=literal)
        else:
            body = self.expr(value, Subst(), expected=(UNIT, t))
            subst = Subst()
            self._boundary(body, UNIT, t, subst, decl.name, value.span)
            term = self._finish(
                T.Ref(UNIT, t, decl.span, name=decl.name, body=body, kind="data", ports=body.ports),
                subst,
            )
            return Definition(decl.name, "data", term, decl.span, decl.span.file)
        return Definition(decl.name, "data", term, decl.span, decl.span.file)

    def _check_data_literal(self, value: object, t: Prod, span: Span, name: str) -> None:
        if len(t) == 1:
            atom = t.atoms[0]
            carrier = carrier_of(atom)
            self._check_atom_literal(value, atom, carrier, span, name)
            return
        if not isinstance(value, tuple) or len(value) != len(t):
            self.error("E0415", f"`{name} : {t}` needs {len(t)} components, one per wire", span)
            raise Failed
        for item, atom in zip(value, t.atoms, strict=True):
            self._check_atom_literal(item, atom, carrier_of(atom), span, name)

    def _check_atom_literal(self, value, atom, carrier, span, name) -> None:
        if isinstance(carrier, Carrier) and carrier.kind in ARRAY_KINDS:
            self._check_literal_shape(value, carrier, span, name)
        if isinstance(carrier, Carrier) and carrier.kind == "Index":
            flat = flatten(value)
            bad = [v for v in flat if not isinstance(v, int) or isinstance(v, bool)]
            if bad:
                self.error("E0415", f"`{atom}` holds indices, found `{bad[0]}`", span)
                raise Failed
            bound = carrier.bound.value if carrier.bound is not None else None
            out = [v for v in flat if v < 0 or (bound is not None and v >= bound)]
            if out:
                self.error(
                    "E0416", f"index {out[0]} out of range for `{atom}` (limit {bound})", span
                )
                raise Failed
        if isinstance(carrier, Carrier) and carrier.kind == "List" and carrier.elem is not None:
            if not isinstance(value, tuple):
                self.error("E0415", f"`{atom}` is a list: write `[...]`", span)
                raise Failed
            elem = carrier.elem
            for item in value:
                if len(elem) == 1:
                    self._check_atom_literal(
                        item, elem.atoms[0], carrier_of(elem.atoms[0]), span, name
                    )
                elif not isinstance(item, tuple) or len(item) != len(elem):
                    self.error(
                        "E0415",
                        f"each item of `{atom}` is `{elem}`: write one "
                        f"[{', '.join('…' for _ in elem.atoms)}] per item",
                        span,
                    )
                    raise Failed
