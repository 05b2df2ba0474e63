"""The checker's parts on their own: the environment of names, the expression checker with a
table of primitives it is given, the wording of diagnostics, and what the parts import."""

from __future__ import annotations

import ast as pyast
import re
from collections.abc import Mapping

import pytest
from conftest import REPO

from catdsl.loader import check_text
from catdsl.std.library import PRIMITIVES
from catdsl.std.optim import FAMILIES
from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.checker import Checker
from catdsl.typesys.environment import Entry, Environment, Resolved
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.literals import LiteralReader
from catdsl.typesys.primitives import PrimSig, PrimSpec
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import Carrier, Obj, Prod, Shape
from catdsl.typesys.unify import Mismatch, Reason, Subst


def items(src: str) -> list[object]:
    module, diags = parse(src, "<string>")
    assert module is not None and not diags
    return list(module.items)


def environment(src: str, define) -> Environment:
    env = Environment(Reporter(), PRIMITIVES, FAMILIES, {"std.ml"}, define=define)
    env.declare(items(src))
    return env


# ==================================================================== the environment


class TestEnvironment:
    def test_cycles_are_reported_once_from_where_the_source_starts(self):
        def define(entry: Entry) -> Resolved:
            assert isinstance(entry.decl, ast.LetDecl)
            assert isinstance(entry.decl.body, ast.Name)
            return env.resolve(entry.decl.body.name)

        env = environment("let a = b\nlet b = c\nlet c = a", define)
        with pytest.raises(Failed):
            env.resolve("b")
        (d,) = env.reporter.diagnostics
        assert (d.code, d.message) == (
            "E0003",
            "`a` is defined in terms of itself (a -> b -> c -> a)",
        )
        assert env.failed == {"a", "b", "c"}

    def test_dependency_order_puts_uses_first(self):
        env = environment("let c = b >> a\nlet b = a\nlet a = id[Unit]", lambda entry: None)
        assert env.dependency_order() == ["a", "b", "c"]

    def test_a_refused_declaration_still_declares_its_name(self):
        env = environment("let relu = id[Unit]\nobject Params : Real[2]", lambda entry: None)
        assert [d.message for d in env.reporter.diagnostics] == [
            "`relu` is a standard-library name (from `std.ml`)",
            "`Params` is a standard-library name",
        ]
        assert env.kind("relu") == "let" and env.kind("Params") == "object"
        assert env.entries["relu"].refused

    def test_a_library_name_taken_twice_is_refused_twice(self):
        env = environment("let relu = id[Unit]\nlet relu = id[Unit]", lambda entry: None)
        assert [d.message for d in env.reporter.diagnostics] == [
            "`relu` is a standard-library name (from `std.ml`)"
        ] * 2
        assert env.names() == []  # a refused name is never suggested

    def test_inside_a_refused_declaration_its_name_means_the_library_one(self):
        seen: dict[str, object] = {}

        def define(entry: Entry) -> Resolved:
            seen[entry.decl.name] = env.lookup(entry.decl.name)
            return Prod(())

        env = environment("let relu = relu", define)
        env.resolve("relu")
        assert seen == {"relu": None}
        assert env.lookup("relu") is env.entries["relu"]

    def test_the_hint_search_never_checks_a_user_of_the_definition_being_checked(self):
        checked: list[str] = []

        def define(entry: Entry) -> Resolved:
            checked.append(entry.decl.name)
            if entry.decl.name == "p":
                assert set(env.morphism_signatures()) == {"g"}
            return definition_of(entry)

        env = environment(
            "object A : Real[2]\nlet g = id[A]\nlet p = g\nlet q = p >> g\nlet r = q", define
        )
        env.resolve("p")
        assert checked == ["p", "g"]
        assert env.reporter.diagnostics == []


def definition_of(entry: Entry) -> Resolved:
    from catdsl.typesys.program import Definition

    a = Prod((Carrier("Real", Shape(())),))
    term = T.Ref(a, a, None, name=entry.decl.name, body=None)
    return Definition(entry.decl.name, "let", term)


# ==================================================================== registries passed in


def _double(_static: Mapping[str, object]) -> PrimSig:
    x = Carrier("Real")
    return PrimSig((), Prod((x,)), Prod((x,)))


class TestPrimitivesArePassedIn:
    def test_a_checker_with_its_own_table_of_primitives(self):
        table = {"double": PrimSpec("double", "std.tiny", (), (), _double, "twice x")}
        src = "object A : Real\nmorphism Twice : A -> A = double\nlet bad = relu"
        checker = Checker(
            "<string>",
            items(src),
            {},
            primitives=table,
            families=FAMILIES,
            imported_std={"std.tiny"},
        )
        program = checker.run()
        assert [(d.code, d.message) for d in program.diagnostics] == [
            ("E0306", "unknown name `relu`")
        ]
        body = program.definitions["Twice"].term.body
        assert isinstance(body, T.Prim) and body.spec is table["double"]

    def test_prim_terms_carry_their_spec(self):
        program = check_text("import std.ml\nobject A : List[Real]\nlet f = A >> windows(3)")
        assert not program.diagnostics
        prim = program.definitions["f"].term.body.parts[1]
        assert isinstance(prim, T.Prim)
        assert prim.spec is PRIMITIVES["windows"]
        assert (prim.spec.count, dict(prim.spec.defaults)) == ("k", {"k": 2})

    def test_defaults_and_counts_live_in_the_specs(self):
        counts = {name: spec.count for name, spec in PRIMITIVES.items() if spec.count}
        assert counts == {"windows": "k", "concat_heads": "n", "concatenate": "n"}
        assert dict(PRIMITIVES["layer_norm"].defaults) == {"eps": 1e-5}
        assert all(spec.kernel is not None for spec in PRIMITIVES.values())

    @pytest.mark.parametrize(
        ("files", "forbidden"),
        [
            ("catdsl/typesys/*.py", "catdsl.std"),
            ("catdsl/diagram/lower.py", "catdsl.std"),
            ("catdsl/errors.py", "catdsl."),
        ],
    )
    def test_imports_point_one_way(self, files, forbidden):
        for path in REPO.glob(files):
            tree = pyast.parse(path.read_text(encoding="utf-8"))
            imported = [
                node.module or "" for node in pyast.walk(tree) if isinstance(node, pyast.ImportFrom)
            ] + [
                a.name
                for node in pyast.walk(tree)
                if isinstance(node, pyast.Import)
                for a in node.names
            ]
            assert not [m for m in imported if m.startswith(forbidden)], path.name


# ==================================================================== expressions alone


def expression_checker(src: str) -> ExpressionChecker:
    """An expression checker over the declarations of `src`, without the rest of the checker:
    names resolve to nothing (no declaration is checked), families are refused."""

    def no_declarations(entry: Entry) -> Resolved:
        raise AssertionError(f"{entry.decl.name} should not be checked")

    def no_families(name: str, e: ast.Call, subst: Subst) -> T.Term:
        raise AssertionError("no family here")

    reporter = Reporter()
    env = Environment(reporter, PRIMITIVES, FAMILIES, {"std.ml"}, define=no_declarations)
    env.declare(items(src))
    types = TypeReader(reporter, env.dim_value, env.named_type, lambda call: Prod(()), env.names)
    literals = LiteralReader(reporter)
    return ExpressionChecker(env, reporter, types, literals, PRIMITIVES, {}, no_families)


def expression(text: str) -> ast.Expr:
    (let,) = items(f"let x = {text}")
    assert isinstance(let, ast.LetDecl)
    return let.body


class TestExpressionsAlone:
    def test_a_chain_of_primitives(self):
        checker = expression_checker("")
        subst = Subst()
        term = checker.check(expression("relu >> softmax"), subst)
        assert isinstance(term, T.Seq)
        assert [type(p) for p in term.parts] == [T.Prim, T.Prim]
        assert str(subst.prod(term.cod)).startswith("Simplex[")

    def test_an_unknown_name_is_reported_with_a_near_one(self):
        checker = expression_checker("let predict = id[Unit]")
        with pytest.raises(Failed):
            checker.check(expression("relu >> predcit"), Subst())
        (d,) = checker.reporter.diagnostics
        assert (d.code, d.message, d.help) == (
            "E0306",
            "unknown name `predcit`",
            "did you mean `predict`?",
        )


# ==================================================================== wording


class TestMessages:
    def test_every_code_is_documented_once(self):
        docs = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
        headings = set(re.findall(r"^### (E\d{4}):", docs, flags=re.M))
        values = [code.value for code in M.Code]
        assert len(values) == len(set(values))
        # E0502 (a negative law tolerance) cannot occur: the grammar reads no negative tolerance
        assert set(values) - headings == {"E0502"}

    def test_unification_says_why_with_a_reason(self):
        nominal = Obj("Logits", Carrier("Real"))
        with pytest.raises(Mismatch) as caught:
            Subst().flow(Carrier("Real"), nominal)
        assert caught.value.reason is Reason.STRUCTURAL_INTO_NOMINAL
        with pytest.raises(Mismatch) as caught:
            Subst().flow(Carrier("Nat"), Carrier("Real"))
        assert caught.value.reason is Reason.CARRIERS_DIFFER

    def test_a_message_becomes_a_diagnostic_at_a_span(self):
        d = M.unknown_name("Softmx", "did you mean `Softmax`?").at(None)
        assert (d.code, d.message, d.help) == (
            "E0306",
            "unknown name `Softmx`",
            "did you mean `Softmax`?",
        )


# ==================================================================== one mistake, one error


class TestOneMistakeOneError:
    def test_a_failed_composition_used_later_is_no_cycle(self):
        src = (
            "object A : Real[2]\nobject B : Real[3]\nmorphism G : A -> B\nmorphism F : A -> B\n"
            "let p = G >> F\nlet q = p >> G"
        )
        assert [d.code for d in check_text(src).diagnostics] == ["E0201"]

    def test_a_refused_library_name_used_later_is_no_cycle(self):
        src = (
            "import std.ml\nobject A : Real[2]\nobject B : Real[3]\nmorphism G : A -> B\n"
            "morphism F : A -> B\nlet softmax = G >> F\nlet q = softmax >> G\nlet r = q"
        )
        assert [d.code for d in check_text(src).diagnostics] == ["E0002", "E0201"]

    def test_uses_of_a_refused_object_refer_to_it(self):
        src = "object Params : Real[2]\nmorphism F : Params -> Params\nlet g = F >> F"
        program = check_text(src)
        assert [d.code for d in program.diagnostics] == ["E0002"]
        assert "g" in program.definitions

    def test_a_refused_morphism_wraps_the_primitive_it_is_named_after(self):
        src = (
            "import std.ml\nobject L : Real[3]\nobject P : Simplex[3]\n"
            "morphism softmax : L -> P = softmax\nlet f = softmax >> softmax"
        )
        diags = check_text(src).diagnostics
        assert [d.code for d in diags] == ["E0002", "E0201"]
        assert diags[1].message == "cannot compose `softmax` with `softmax`: `P` is not `L`"
