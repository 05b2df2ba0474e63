"""Training families over a loss: Init, MeanLoss, TrainStep, Momentum, Adam."""

from __future__ import annotations

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.check_base import (
    HYPER,
    HYPER_DEFAULTS,
    Failed,
    expr_text,
    family_usage,
)
from catdsl.typesys.types import (
    UNIT,
    Carrier,
    Prod,
    Record,
    carrier_of,
)
from catdsl.typesys.unify import Mismatch, Subst


class FamiliesMixin:
    """Training families over a loss: Init, MeanLoss, TrainStep, Momentum, Adam."""

    # ================================================================ training families
    def _family(self, name: str, e: ast.Call, subst: Subst) -> T.Term:
        positional = [a for a in e.args if a.name is None]
        keywords = {a.name: a.value for a in e.args if a.name is not None}
        if not positional:
            self.error("E0304", f"`{name}` needs a loss", e.span, help=family_usage(name))
            raise Failed
        loss = self.expr(positional[0].value, subst)
        loss_text = expr_text(positional[0].value, self.sources)
        record = self._params_record(loss, loss_text, name, positional[0].value.span)
        params = tuple(
            sorted(
                (p for p in loss.ports if p.kind == "param"),
                key=lambda p: self._param_order(p.name),
            )
        )
        if name in ("Init", "AdamInit", "MomentumInit", "AdamParams", "MomentumParams"):
            if len(positional) > 1 or keywords:
                self.error(
                    "E0307", f"`{name}` takes only the loss", e.span, help=family_usage(name)
                )
                raise Failed
            state = {
                "Init": record,
                "AdamInit": self._adam_record(record),
                "MomentumInit": self._momentum_record(record),
            }
            if name in state:
                return T.Train(
                    UNIT,
                    Prod((state[name],)),
                    e.span,
                    family=name,
                    loss=loss,
                    data=None,
                    params=params,
                )
            source = (
                self._adam_record(record) if name == "AdamParams" else self._momentum_record(record)
            )
            return T.Train(
                Prod((source,)),
                Prod((record,)),
                e.span,
                family=name,
                loss=loss,
                data=None,
                params=params,
            )
        data = None
        rest = positional[1:]
        hyper_names = HYPER.get(name, ())
        user_ports = tuple(p for p in loss.ports if p.kind == "port")
        needs_data = bool(loss.dom.atoms) or bool(user_ports)
        if needs_data:
            if not rest and "data" not in keywords:
                self.error(
                    "E0317",
                    f"`{name}` needs the training data: `{name}({loss_text}, data, ...)`",
                    e.span,
                    help=f"the loss takes `{loss.dom}`; pass a `data` point of a list of them",
                )
                raise Failed
            data_expr = keywords.pop("data", None) or rest.pop(0).value
            data = self.expr(data_expr, subst)
            self._check_data(name, loss, data, data_expr, subst, user_ports)
        hyper: dict[str, float] = {}
        for key, value in zip(hyper_names, rest, strict=False):
            hyper[key] = float(self._number(value.value))
        if len(rest) > len(hyper_names):
            self.error(
                "E0307",
                f"`{name}` takes {len(hyper_names)} hyper-parameter(s) after the data",
                e.span,
                help=family_usage(name),
            )
            raise Failed
        for key, value in keywords.items():
            if key not in hyper_names:
                self.error(
                    "E0307",
                    f"`{name}` has no argument `{key}`",
                    value.span,
                    help=family_usage(name),
                )
                raise Failed
            if key in hyper:
                self.error(
                    "E0307",
                    f"`{name}` is given `{key}` twice: by position ({hyper[key]:g}) and by name",
                    value.span,
                    help=f"keep one of them: {family_usage(name)}",
                )
                raise Failed
            hyper[key] = float(self._number(value))
        for key in hyper_names:
            if key not in hyper:
                if key not in HYPER_DEFAULTS:
                    self.error("E0307", f"`{name}` needs `{key}`", e.span, help=family_usage(name))
                    raise Failed
                hyper[key] = HYPER_DEFAULTS[key]
        self._check_hyper(name, hyper, e)
        if name == "MeanLoss":
            if len(loss.cod) != 1:
                self.error(
                    "E0318", f"`MeanLoss` needs a loss with one output, not `{loss.cod}`", e.span
                )
                raise Failed
            return T.Train(
                Prod((record,)), loss.cod, e.span, family=name, loss=loss, data=data, params=params
            )
        state = {
            "TrainStep": record,
            "Momentum": self._momentum_record(record),
            "Adam": self._adam_record(record),
        }[name]
        return T.Train(
            Prod((state,)),
            Prod((state,)),
            e.span,
            family=name,
            loss=loss,
            data=data,
            params=params,
            hyper=tuple(hyper.items()),
        )

    def _check_data(
        self, name, loss: T.Term, data: T.Term, data_expr, subst: Subst, user_ports
    ) -> None:
        elem_expected = loss.dom + Prod(tuple(p.atom for p in user_ports))
        carrier = carrier_of(data.cod.atoms[0]) if len(data.cod) == 1 else None
        if data.dom.atoms or not isinstance(carrier, Carrier) or carrier.kind != "List":
            self.error(
                "E0319",
                f"`{name}`'s data must be a point of a list of `{elem_expected}`, "
                f"found `{data.dom} -> {data.cod}`",
                data_expr.span,
                help="declare it with `data name : List[...] = [...]`, or compose a point "
                "with a morphism, e.g. `corpus >> Windowing`",
            )
            raise Failed
        try:
            subst.unify_prod(elem_expected, carrier.elem)
        except Mismatch:
            self.error(
                "E0319",
                f"`{name}`'s data holds `{carrier.elem}`, but the loss takes `{elem_expected}`",
                data_expr.span,
            )
            raise Failed from None

    def _check_hyper(self, name: str, hyper: dict[str, float], e: ast.Call) -> None:
        lr = hyper.get("lr")
        if lr is not None and not (lr > 0 and lr != float("inf")):
            self.error("E0320", f"invalid learning rate {lr}: it must be finite and > 0", e.span)
            raise Failed
        for key in ("beta", "beta1", "beta2"):
            if key in hyper and not 0 <= hyper[key] < 1:
                self.error(
                    "E0320",
                    f"invalid Adam decay rate `{key}` = {hyper[key]}: it must lie in [0, 1)",
                    e.span,
                )
                raise Failed
        if "eps" in hyper and not hyper["eps"] > 0:
            self.error("E0320", f"invalid epsilon {hyper['eps']}: it must be > 0", e.span)
            raise Failed

    def _param_order(self, name: str) -> int:
        return self.position.get(name, len(self.position))

    def _params_record(self, loss: T.Term, text: str, family: str, span: Span) -> Record:
        """The record of the loss's params in declaration order; a loss without params has
        nothing to train (E0321)."""
        params = sorted(
            (p for p in loss.ports if p.kind == "param"), key=lambda p: self._param_order(p.name)
        )
        if not params:
            self.error(
                "E0321",
                f"`{family}({text})` has nothing to train: `{text}` uses no param",
                span,
                help="pass the loss whose params are trained, a morphism built on `param`s",
            )
            raise Failed
        return Record("Params", tuple((p.name, p.atom) for p in params), f"Params({text})")

    def _adam_record(self, params: Record) -> Record:
        nat = Carrier("Nat")
        inner = params.name[len("Params") :]
        return Record(
            "AdamState",
            (("params", params), ("m", params), ("v", params), ("step", nat)),
            f"AdamState{inner}",
        )

    def _momentum_record(self, params: Record) -> Record:
        inner = params.name[len("Params") :]
        return Record(
            "MomentumState", (("params", params), ("velocity", params)), f"MomentumState{inner}"
        )
