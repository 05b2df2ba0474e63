"""Unit tests of the type checker, through `catdsl.loader.check_text` / `check_file`.

Types are compared as the strings users read (`TokenId -> Distribution`), so a test reads
like the language reference.
"""

from __future__ import annotations

import pytest
from conftest import PROGRAMS

from catdsl.loader import check_file, check_text
from catdsl.typesys.program import CheckedProgram

# The tiny model's core: programs/tiny_ml.cat without invariants, loss measurements or the
# category laws (one law, no tolerance).
TINY_CORE = """\
# tiny.cat — the tiny next-token model        (comments start with #)
import std.ml                                  # a standard-library module

dim V = 5                                      # a named dimension with a size
dim D = 4

object TokenId       : Index[V]                # nominal object over a carrier
object Vector        : Real[D]
object Logits        : Real[V]
object Distribution  : Simplex[V]
object Loss          : Real
object TokenSequence : List[TokenId]
type   Example       = TokenId * TokenId       # an alias (structural, not a new object)
object TrainingSet   : List[Example]

param E : Real[V, D] = course_init(seed = 1, scale = 0.2)   # learnable, with an initializer
param W : Real[D, V] = course_init(seed = 2, scale = 0.2)
param b : Real[V]    = zeros

morphism Embedding      : TokenId -> Vector             = lookup(E)
morphism LinearToLogits : Vector -> Logits               = affine(W, b)
morphism Softmax        : Logits -> Distribution         = softmax
morphism CrossEntropy   : Distribution * TokenId -> Loss = nll
morphism Windowing      : TokenSequence -> TrainingSet   = windows(2)

morphism DirectPredict  : TokenId -> Distribution     = lookup(E) >> affine(W, b) >> softmax

let predict = Embedding >> LinearToLogits >> Softmax     # inferred: TokenId -> Distribution
let loss : Example -> Loss = predict * TokenId >> CrossEntropy

data corpus : TokenSequence = [1, 2, 3, 4, 1, 2, 3, 4]
let examples = corpus >> Windowing                       # a point: Unit -> TrainingSet

let step    = TrainStep(loss, examples, lr = 1.0)        # Params(loss) -> Params(loss)
let trained = step ^ 80                                  # an endomorphism, iterated

law composed_is_direct : Embedding >> LinearToLogits >> Softmax == DirectPredict
"""

# The tiny model's objects, for shorter snippets.
HEAD = """\
import std.ml
dim V = 5
dim D = 4
object TokenId      : Index[V]
object Vector       : Real[D]
object Logits       : Real[V]
object Distribution : Simplex[V]
object Loss         : Real
param E : Real[V, D] = course_init(seed = 1, scale = 0.2)
param W : Real[D, V] = course_init(seed = 2, scale = 0.2)
param b : Real[V]    = zeros
morphism Embedding      : TokenId -> Vector             = lookup(E)
morphism LinearToLogits : Vector -> Logits               = affine(W, b)
morphism Softmax        : Logits -> Distribution         = softmax
morphism CrossEntropy   : Distribution * TokenId -> Loss = nll
"""
HEAD_LINES = HEAD.count("\n")


# ---------------------------------------------------------------------------- helpers


def check(src: str, head: bool = False) -> CheckedProgram:
    return check_text((HEAD if head else "") + src, "t.cat")


def clean(src: str, head: bool = False) -> CheckedProgram:
    program = check(src, head)
    assert program.diagnostics == [], [(d.code, d.message) for d in program.diagnostics]
    return program


def codes(src: str, head: bool = False) -> list[str]:
    return [d.code for d in check(src, head).diagnostics]


def one(src: str, head: bool = False):
    diags = check(src, head).diagnostics
    assert len(diags) == 1, [(d.code, d.message) for d in diags]
    return diags[0]


def sig(program: CheckedProgram, name: str) -> str:
    term = program.definitions[name].term
    return f"{term.dom} -> {term.cod}"


def ports(program: CheckedProgram, name: str, kind: str = "port") -> dict[str, str]:
    term = program.definitions[name].term
    return {p.name: str(p.atom) for p in term.ports if p.kind == kind}


def line(d) -> int:
    """A diagnostic's line inside the snippet (after HEAD)."""
    return d.span.line - HEAD_LINES


# ---------------------------------------------------------------------------- the tiny model


class TestTinyProgram:
    @pytest.fixture(scope="class")
    @staticmethod
    def program() -> CheckedProgram:
        program = check_text(TINY_CORE, "tiny.cat")
        assert program.diagnostics == []
        return program

    def test_definition_types(self, program):
        assert {name: sig(program, name) for name in program.definitions} == {
            "Embedding": "TokenId -> Vector",
            "LinearToLogits": "Vector -> Logits",
            "Softmax": "Logits -> Distribution",
            "CrossEntropy": "Distribution * TokenId -> Loss",
            "Windowing": "TokenSequence -> TrainingSet",
            "DirectPredict": "TokenId -> Distribution",
            "predict": "TokenId -> Distribution",
            "loss": "TokenId * TokenId -> Loss",
            "corpus": "Unit -> TokenSequence",
            "examples": "Unit -> TrainingSet",
            "step": "Params(loss) -> Params(loss)",
            "trained": "Params(loss) -> Params(loss)",
        }

    def test_definition_kinds(self, program):
        kinds = {name: d.kind for name, d in program.definitions.items()}
        assert kinds["Embedding"] == "morphism"
        assert kinds["predict"] == "let"
        assert kinds["corpus"] == "data"
        assert kinds["examples"] == "let"

    def test_learnable_ports_collected_through_composition(self, program):
        assert ports(program, "Embedding", "param") == {"E": "Real[V, D]"}
        assert ports(program, "LinearToLogits", "param") == {"W": "Real[D, V]", "b": "Real[V]"}
        assert ports(program, "Softmax", "param") == {}
        for name in ("predict", "loss", "DirectPredict"):
            assert ports(program, name, "param") == {
                "E": "Real[V, D]",
                "W": "Real[D, V]",
                "b": "Real[V]",
            }
            assert ports(program, name) == {}

    def test_objects_and_carriers(self, program):
        carriers = {name: str(obj.carrier) for name, obj in program.objects.items()}
        assert carriers == {
            "TokenId": "Index[V]",
            "Vector": "Real[D]",
            "Logits": "Real[V]",
            "Distribution": "Simplex[V]",
            "Loss": "Real",
            "TokenSequence": "List[TokenId]",
            "TrainingSet": "List[TokenId * TokenId]",
        }

    def test_dims_aliases_params_laws(self, program):
        assert program.dims == {"V": 5, "D": 4}
        assert {k: str(v) for k, v in program.aliases.items()} == {"Example": "TokenId * TokenId"}
        params = {n: (str(p.carrier), p.shape, p.init) for n, p in program.params.items()}
        assert params == {
            "E": ("Real[V, D]", (5, 4), "course_init"),
            "W": ("Real[D, V]", (4, 5), "course_init"),
            "b": ("Real[V]", (5,), "zeros"),
        }
        assert dict(program.params["E"].init_args) == {"seed": 1, "scale": 0.2}
        assert list(program.laws) == ["composed_is_direct"]
        law = program.laws["composed_is_direct"]
        assert (str(law.lhs.dom), str(law.lhs.cod)) == ("TokenId", "Distribution")
        assert law.tolerance is None

    def test_declaration_order_does_not_matter(self):
        lines = [ln for ln in TINY_CORE.splitlines() if ln and not ln.startswith("import")]
        program = check_text("import std.ml\n" + "\n".join(reversed(lines)), "rev.cat")
        assert program.diagnostics == []
        assert sig(program, "trained") == "Params(loss) -> Params(loss)"

    def test_the_course_programs_check(self):
        for path in sorted(PROGRAMS.glob("*.cat")):
            assert check_file(path).diagnostics == [], path.name


# ---------------------------------------------------------------------------- objects, aliases


class TestObjectsAndAliases:
    def test_objects_are_nominal_even_with_equal_carriers(self):
        d = one(
            "object Scores : Real[V]\nmorphism Rescore : Scores -> Logits = relu\n"
            "let bad = LinearToLogits >> Rescore",
            head=True,
        )
        assert d.code == "E0201"
        assert "`Logits` is not `Scores`" in d.message
        assert d.notes == (
            "`Logits` and `Scores` are both `Real[V]`, but objects are nominal: "
            "composition matches object names, never carriers",
        )
        assert any("nominal" in n for n in d.notes)

    def test_aliases_are_transparent(self):
        p = clean(
            "type Example = TokenId * TokenId\n"
            "type Pair = Example\n"
            "let f : Example -> TokenId = fst[TokenId, TokenId]\n"
            "let g : TokenId * TokenId -> TokenId = snd[TokenId, TokenId]\n"
            "let h : Pair -> Example = Example\n"
            "object Batch : List[Example]\n"
            "object Batch2 : List[TokenId * TokenId]\n"
            "type Probs = Distribution\n"
            "let k : Logits -> Probs = Softmax\n",
            head=True,
        )
        assert sig(p, "f") == "TokenId * TokenId -> TokenId"
        assert sig(p, "h") == "TokenId * TokenId -> TokenId * TokenId"
        assert sig(p, "k") == "Logits -> Distribution"
        assert str(p.aliases["Pair"]) == "TokenId * TokenId"
        assert str(p.objects["Batch"].carrier) == str(p.objects["Batch2"].carrier)

    def test_alias_is_not_a_new_object_but_an_object_is(self):
        assert codes("type L2 = Logits\nlet ok = Softmax >> Distribution\n"
                     "let ok2 = L2 >> Softmax", head=True) == []  # fmt: skip
        assert codes("object L2 : Real[V]\nlet bad = L2 >> Softmax", head=True) == ["E0201"]

    def test_invariants_are_recorded(self):
        p = clean(
            "object Loss2 : Real where finite and value >= 0\n"
            "object Seq : List[TokenId] where nonempty and len >= 1\n"
            "object P : Real[V] where nonnegative and sum == 1 and positive",
            head=True,
        )
        assert [str(w) for w in p.objects["Loss2"].where] == ["finite", "value >= 0"]
        assert [str(w) for w in p.objects["Seq"].where] == ["nonempty", "len >= 1"]
        assert [str(w) for w in p.objects["P"].where] == ["nonnegative", "sum == 1", "positive"]

    @pytest.mark.parametrize(
        "where", ["where foo", "where value >= 0 and size > 1", "where finite and bounded"]
    )
    def test_unknown_invariants(self, where):
        d = one(f"object X : Real {where}")
        assert d.code == "E0407"

    def test_an_invariant_between_two_numbers_is_refused(self):
        d = one("object X : Real where value >= 0 and 3 > 2")
        assert (d.code, d.span.column, d.span.end_column) == ("E0407", 38, 43)
        assert (
            d.message == "this invariant compares two numbers, so it says nothing about the value"
        )

    @pytest.mark.parametrize(
        ("carrier", "where", "column"),
        [
            ("Real", "len >= 1", 23),
            ("Nat", "value >= 0 and 2 == len", 37),
            ("Index[4]", "nonempty", 27),
        ],
    )
    def test_a_number_has_no_length(self, carrier, where, column):
        d = one(f"object X : {carrier} where {where}")
        assert (d.code, d.span.column) == ("E0407", column)
        assert d.message == f"`{carrier}` is a single number, so it has no length to check"

    @pytest.mark.parametrize(
        ("carrier", "where"),
        [("List[Real]", "len >= 1"), ("Real[3]", "nonempty"), ("Real[4, 2]", "len == 4")],
    )
    def test_lists_and_arrays_have_a_length(self, carrier, where):
        assert codes(f"object X : {carrier} where {where}") == []

    def test_unknown_carrier_did_you_mean(self):
        d = one("object X : Reel[V]", head=True)
        assert (d.code, d.message, d.help) == (
            "E0401",
            "unknown object or type `Reel`",
            "did you mean `Real`?",
        )

    @pytest.mark.parametrize(
        ("carrier", "code"),
        [
            ("Index", "E0404"),
            ("Simplex", "E0404"),
            ("Nat[3]", "E0404"),
            ("List[Logits, Logits]", "E0404"),
            ("Logits[3]", "E0404"),
            ("Logits * 3", "E0405"),
            ("Foo(1)", "E0404"),
        ],
    )
    def test_malformed_carriers(self, carrier, code):
        assert codes(f"object X : {carrier}", head=True) == [code]

    def test_carriers_of_every_kind(self):
        p = clean(
            "object R : Real\nobject N : Nat\nobject Bo : Bool[V]\nobject U : Unit\n"
            "object S2 : Simplex[D, V]\nobject I2 : Index[D, V]\nobject O : Option[Logits]\n"
            "object L : List[List[TokenId]]\nobject Pr : Logits * Vector",
            head=True,
        )
        shown = {n: str(p.objects[n].carrier) for n in ("R", "N", "Bo", "S2", "I2", "O", "L")}
        assert shown == {
            "R": "Real",
            "N": "Nat",
            "Bo": "Bool[V]",
            "S2": "Simplex[D, V]",
            "I2": "Index[D, V]",
            "O": "Option[Logits]",
            "L": "List[List[TokenId]]",
        }
        assert str(p.objects["Pr"].carrier) == "Logits * Vector"


# ---------------------------------------------------------------------------- products


class TestStrictProducts:
    SRC = "object A : Real[2]\nobject B : Real[3]\nobject C : Real[4]\n"

    def test_products_are_associative(self):
        p = clean(
            self.SRC + "let f : (A * B) * C -> A * (B * C) = A * B * C\n"
            "let g : A * (B * C) -> (A * B) * C = (A * B) * C\n"
            "let h : ((A)) * ((B * C)) -> A * B * C = A * (B * C)\n"
            "let k = swap[A * B, C] >> swap[C, A * B]\n"
        )
        for name in ("f", "g", "h"):
            assert sig(p, name) == "A * B * C -> A * B * C"
        assert sig(p, "k") == "A * B * C -> A * B * C"

    def test_unit_is_the_empty_product(self):
        p = clean(
            self.SRC + "let u : A * Unit -> A = A\n"
            "let v : Unit * A * Unit -> Unit * A = A\n"
            "let w : Unit -> Unit = Unit\n"
            "let d = discard[A]\n"
            "let e = A * discard[B] >> A\n"
            "let i = id[Unit]\n"
        )
        assert sig(p, "u") == "A -> A"
        assert sig(p, "v") == "A -> A"
        assert sig(p, "w") == "Unit -> Unit"
        assert sig(p, "d") == "A -> Unit"
        assert sig(p, "e") == "A * B -> A"
        assert sig(p, "i") == "Unit -> Unit"

    def test_structural_morphisms(self):
        p = clean(
            self.SRC + "let i = id[A]\nlet c = copy[A]\nlet s = swap[A, B]\n"
            "let f = fst[A, B]\nlet n = snd[A, B]\nlet o = A\n"
            "let c2 = copy[A * B]\nlet p = <A, A>\nlet p3 = ⟨A, A, A⟩\n"
        )
        assert {n: sig(p, n) for n in ("i", "c", "s", "f", "n", "o", "c2", "p", "p3")} == {
            "i": "A -> A",
            "c": "A -> A * A",
            "s": "A * B -> B * A",
            "f": "A * B -> A",
            "n": "A * B -> B",
            "o": "A -> A",
            "c2": "A * B -> A * B * A * B",
            "p": "A -> A * A",
            "p3": "A -> A * A * A",
        }

    def test_tensor_symbols(self):
        p = clean(self.SRC + "let t = A * B\nlet u = A ⊗ B")
        assert sig(p, "t") == sig(p, "u") == "A * B -> A * B"

    @pytest.mark.parametrize(
        ("expr", "code"),
        [("swap[A]", "E0310"), ("fst[A]", "E0310"), ("id[A, B]", "E0310"), ("copy[3]", "E0405")],
    )
    def test_structural_arity(self, expr, code):
        assert codes(self.SRC + f"let x = {expr}") == [code]

    def test_points_compose_to_points(self):
        p = clean(
            "data t : TokenId = 3\nlet v = t >> Embedding\nlet both = t * t\n"
            "let pairwise = t * t >> swap[TokenId, TokenId]",
            head=True,
        )
        assert sig(p, "t") == "Unit -> TokenId"
        assert sig(p, "v") == "Unit -> Vector"
        assert sig(p, "both") == "Unit -> TokenId * TokenId"

    def test_pairing_needs_one_domain(self):
        d = one("let bad = <Softmax, Embedding>", head=True)
        assert d.code == "E0203"
        assert "`Logits` and `TokenId`" in d.message


# ---------------------------------------------------------------------------- dims


class TestDims:
    def test_sizes_and_names(self):
        p = clean("dim V = 5\ndim W2 = V\ndim S = 2 * V + 1\nobject X : Real[S]")
        assert p.dims == {"V": 5, "W2": 5, "S": 11}
        assert str(p.objects["X"].carrier) == "Real[S]"

    def test_free_dims(self):
        p = clean(
            "dim T\nobject Seq : Real[T, D]\nobject Out : Real[T, V]\n"
            "morphism Proj : Seq -> Out = linear(W)",
            head=True,
        )
        assert p.dims["T"] is None
        assert sig(p, "Proj") == "Seq -> Out"

    def test_dim_arithmetic_h_times_k(self):
        p = clean(
            "import std.ml\ndim H = 2\ndim K = 3\n"
            "object Heads : Real[H * K]\nobject Six : Real[6]\n"
            "param P : Real[H * K, 6] = zeros\nmorphism F : Heads -> Six = linear(P)\n"
            "morphism G : Six -> Heads = relu"
        )
        assert sig(p, "F") == "Heads -> Six"
        assert p.params["P"].shape == (6, 6)

    def test_symbolic_products_commute(self):
        p = clean(
            "import std.ml\ndim H\ndim K\nobject A : Real[H * K]\nobject B : Real[K * H]\n"
            "morphism F : A -> B = relu\nobject C : Real[H + K]\nobject E : Real[K + H]\n"
            "morphism G : C -> E = relu"
        )
        assert sig(p, "F") == "A -> B"

    def test_free_dims_do_not_unify_with_each_other(self):
        d = one("import std.ml\ndim T\ndim S\nobject A : Real[T]\nobject B : Real[S]\n"
                "morphism F : A -> B = relu")  # fmt: skip
        assert d.code == "E0205"
        assert d.notes == ("the shapes differ: expected `Real[S]`, found `Real[T]`",)

    def test_size_mismatch_shows_the_dim_bindings(self):
        d = one(
            "object Small : Real[3]\nmorphism Project : Small -> Logits = affine(W, b)",
            head=True,
        )
        assert d.code == "E0205"
        assert d.message == (
            "`Project` is declared with domain `Small`, but its body has domain `Real[4]`"
        )
        assert d.notes == (
            "the shapes differ: expected `Real[4]`, found `Small` = `Real[3]`",
            "`affine` takes its shape from `W : Real[D, V]` (with D = 4, V = 5) "
            "and `b : Real[V]` (with V = 5)",
        )

    @pytest.mark.parametrize("value", ["0", "V - 5", "V - 6"])
    def test_dims_are_positive(self, value):
        assert codes(f"dim V = 5\ndim Z = {value}") == ["E0406"]

    @pytest.mark.parametrize(
        ("carrier", "axis"),
        [
            ("Real[0]", "0"),
            ("Real[V - 5]", "V - 5"),
            ("Real[3, 0]", "0"),
            ("Index[0]", "0"),
            ("Simplex[V - 5]", "V - 5"),
        ],
    )
    def test_carrier_axes_are_positive(self, carrier, axis):
        d = one(f"dim V = 5\nobject X : {carrier}")
        assert (d.code, d.message) == (
            "E0406",
            "an axis of a carrier must have a positive size, not 0",
        )
        column = len("object X : ") + carrier.rindex(axis) + 1
        assert (d.span.line, d.span.column, d.span.end_column) == (2, column, column + len(axis))

    def test_unknown_dim_did_you_mean(self):
        d = one("object X : Real[DD]", head=True)
        assert (d.code, d.help) == ("E0402", "did you mean `D`?")
        d = one("object X : Real[Q]")
        assert d.help == "declare it: `dim Q = 8` (or `dim Q`, free)"

    def test_params_need_fixed_sizes(self):
        d = one("dim T\nparam P : Real[T] = zeros")
        assert d.code == "E0409"
        assert d.help == "give it a size: `dim T = 8`"

    def test_param_literal_shapes(self):
        clean("param P : Real[2, 3] = [[1, 2, 3], [4, 5, 6]]")
        assert codes("param P : Real[2, 3] = [[1, 2], [3, 4]]") == ["E0415"]
        assert codes("param P : Real[2] = [[1, 2]]") == ["E0415"]
        assert codes("param P : Real[2] = [1, [2]]") == ["E0415"]
        assert codes("param P : Index[3] = zeros") == ["E0408"]


# ---------------------------------------------------------------------------- primitives


class TestPrimitives:
    def test_generic_signatures_unify_with_declared_objects(self):
        p = clean(
            "object Seq : List[TokenId]\nobject Pairs : List[TokenId * TokenId]\n"
            "object Triples : List[TokenId * TokenId * TokenId]\n"
            "morphism W2 : Seq -> Pairs = windows(2)\n"
            "morphism W3 : Seq -> Triples = windows(k = 3)\n"
            "morphism Fused : Logits * TokenId -> Loss = cross_entropy\n"
            "morphism Act : Vector -> Vector = relu >> tanh >> sigmoid\n"
            "morphism Sc : Vector -> Vector = scale(2)\n"
            "morphism Score : Vector -> Loss = dot(v)\n"
            "param v : Real[D] = ones\n"
            "morphism Total : Logits -> Loss = sum\n"
            "morphism Err : Logits * Logits -> Loss = mse\n"
            "morphism Lin : Vector -> Logits = linear(W)\n"
            "morphism LogP : Logits -> Logits = log_softmax\n",
            head=True,
        )
        assert sig(p, "W3") == "Seq -> Triples"
        assert ports(p, "Lin", "param") == {"W": "Real[D, V]"}
        assert ports(p, "Score", "param") == {"v": "Real[D]"}

    def test_primitives_are_batch_polymorphic(self):
        p = clean(
            "dim T\nobject Seq : Real[T, V]\nobject Probs : Simplex[T, V]\n"
            "object Ids : Index[T, V]\nobject Losses : Real[T]\n"
            "morphism S : Seq -> Probs = softmax\n"
            "morphism CE : Probs * Ids -> Losses = nll\n"
            "object Toks : Index[T, V]\nobject Rows : Real[T, D]\n"
            "morphism Emb : Toks -> Rows = lookup(E)",
            head=True,
        )
        assert sig(p, "CE") == "Probs * Ids -> Losses"

    def test_a_primitive_in_an_expression_keeps_its_structural_type(self):
        p = clean("let raw = Logits >> softmax", head=True)
        assert sig(p, "raw") == "Logits -> Simplex[5]"
        d = one("let bad : Logits -> Distribution = softmax", head=True)
        assert d.code == "E0204"
        assert d.help == (
            "a value enters `Distribution` only through a declared morphism: make `bad` one, "
            "`morphism bad : Logits -> Distribution = softmax`"
        )
        assert codes("let bad = Logits >> softmax >> CrossEntropy", head=True) == ["E0202"]
        assert codes("let bad = LinearToLogits >> softmax >> Distribution", head=True) == ["E0201"]

    def test_param_argument_shapes(self):
        d = one(
            "param b2 : Real[D] = zeros\nmorphism L : Vector -> Logits = affine(W, b2)", head=True
        )
        assert d.code == "E0206"
        assert d.message == "`affine` needs `b` of shape `Real[5]`, but `b2` is `Real[D]`"
        assert d.notes == (
            "the shapes differ: expected `Real[5]`, found `Real[D]` (with D = 4)",
            "`affine` takes that shape from `W : Real[D, V]` (with D = 4, V = 5)",
        )
        assert d.help == "declare `param b2 : Real[5]`"
        swapped = one("morphism L : Vector -> Logits = affine(b, W)", head=True)
        assert swapped.code == "E0206" and swapped.help.startswith("`affine(W, b)`")
        assert "param" not in swapped.help  # a signature variable cannot be declared

    def test_primitive_arguments(self):
        assert codes("let x = relu(1, 2)", head=True) == ["E0307"]
        assert codes("let x = relu(x = 1)", head=True) == ["E0307"]
        assert codes("let x = affine(W)", head=True) == ["E0307"]
        assert codes("let x = lookup(Logits)", head=True) == ["E0208"]
        assert codes("let x = lookup(Nope)", head=True) == ["E0306"]
        assert codes("let x = scale(c = Logits)", head=True) == ["E0412"]

    def test_primitive_needs_its_module(self):
        d = one("object A : Real[2]\nmorphism F : A -> A = relu")
        assert (d.code, d.help) == ("E0306", "`relu` is in `std.ml`: add `import std.ml`")
        d = one("import std.ml\nobject A : Real[2]\nmorphism F : A -> A = residual")
        assert d.help == "`residual` is in `std.attention`: add `import std.attention`"

    @pytest.mark.parametrize(
        ("name", "where"),
        [("softmax", " (from `std.ml`)"), ("mean", " (from `std.ml`)"), ("Init", ""),
         ("Params", "")],
    )  # fmt: skip
    def test_standard_library_names_are_reserved(self, name, where):
        d = one(f"import std.ml\nobject A : Real[2]\nlet {name} = A")
        assert (d.code, d.message) == ("E0002", f"`{name}` is a standard-library name{where}")

    def test_primitives_of_modules_not_imported_are_free_names(self):
        p = clean("import std.ml\nobject H : Real[2]\nmorphism residual : H * H -> H = add\n"
                  "let r = residual")  # fmt: skip
        assert sig(p, "r") == "H * H -> H"

    @pytest.mark.parametrize("bad", ["zeros", "zeros(1)", "load", "TrainStep", "List"])
    def test_initialisers_and_families_are_not_morphisms(self, bad):
        assert codes(f"let x = {bad}", head=True)[0] in ("E0304", "E0305")


# ---------------------------------------------------------------------------- ports


class TestPorts:
    PORTS = (
        "morphism CE[target: TokenId] : Distribution -> Loss = nll\n"
        "object Other : Index[V]\n"
        "morphism CE2[target: Other] : Distribution -> Loss = nll\n"
    )

    def test_a_port_feeds_the_primitives_extra_input(self):
        p = clean(self.PORTS + "let card = Logits >> Softmax >> CE", head=True)
        assert sig(p, "CE") == "Distribution -> Loss"
        assert ports(p, "CE") == {"target": "TokenId"}
        assert sig(p, "card") == "Logits -> Loss"
        assert ports(p, "card") == {"target": "TokenId"}

    def test_ports_are_collected_by_name(self):
        p = clean(
            self.PORTS + "let both = <CE, CE>\nlet pipe = Logits >> Softmax >> both\n"
            "morphism Twice[target: TokenId] : Distribution -> Loss = nll\n"
            "let shared = <CE, Twice>\n",
            head=True,
        )
        assert sig(p, "both") == "Distribution -> Loss * Loss"
        assert ports(p, "both") == {"target": "TokenId"}
        assert ports(p, "pipe") == {"target": "TokenId"}
        assert ports(p, "shared") == {"target": "TokenId"}
        assert ports(p, "pipe", "param") == {}

    @pytest.mark.parametrize("expr", ["CE * CE2", "<CE, CE2>"])
    def test_port_clash(self, expr):
        d = one(self.PORTS + f"let clash = {expr}", head=True)
        assert d.code == "E0209"
        assert d.message == "port `target` is used as `TokenId` and as `Other`"
        assert d.help == "one name is one wire: rename one of the ports"

    def test_port_clash_through_composition(self):
        d = one(
            self.PORTS + "morphism Copy2 : Distribution -> Distribution * Distribution = "
            "copy[Distribution]\nlet clash = Copy2 >> CE * CE2",
            head=True,
        )
        assert d.code == "E0209"

    def test_binding_a_port_to_a_point(self):
        p = clean(self.PORTS + "data t : TokenId = 2\nlet closed = CE[t]", head=True)
        assert sig(p, "closed") == "Distribution -> Loss"
        assert ports(p, "closed") == {}
        assert codes(self.PORTS + "data t : TokenId = 2\nlet bad = CE[t, t]", head=True) == [
            "E0311"
        ]
        assert codes(self.PORTS + "data o : Other = 2\nlet bad = CE[o]", head=True) == ["E0206"]

    def test_a_port_carries_one_object(self):
        assert codes("morphism M[p: Logits * Logits] : Logits -> Logits = relu", head=True) == [
            "E0417"
        ]

    def test_unused_port(self):
        assert codes("morphism M[t: TokenId] : Logits -> Logits = relu", head=True) == ["E0210"]

    def test_learnable_params_are_ports_and_params_record(self):
        p = clean(
            "let predict = Embedding >> LinearToLogits >> Softmax\n"
            "type P = Params(predict)\nlet keep : P -> P = P\nlet init = Init(predict)",
            head=True,
        )
        assert sig(p, "init") == "Unit -> Params(predict)"
        assert sig(p, "keep") == "Params(predict) -> Params(predict)"


# ---------------------------------------------------------------------------- powers


class TestPower:
    SRC = (
        "object A : Real[2]\nobject B : Real[2]\n"
        "morphism Step : A -> A = relu\nmorphism Res : A * B -> A = add\n"
    )

    def test_endomorphisms_iterate(self):
        p = clean(
            "import std.ml\n" + self.SRC + "dim N = 3\n"
            "let three = Step ^ 3\nlet none = Step ^ 0\nlet n = Step ^ N\n"
            "let comp = Step ^ 2 >> Step\nlet prod = Step ^ 2 * Step\nlet obj = A ^ 5\n"
        )
        for name in ("three", "none", "n", "comp", "obj"):
            assert sig(p, name) == "A -> A"
        assert sig(p, "prod") == "A * A -> A * A"
        assert p.definitions["three"].term.body.n == 3
        assert p.definitions["n"].term.body.n == 3

    def test_product_input_morphism_is_not_an_endomorphism(self):
        d = one("import std.ml\n" + self.SRC + "let bad = Res ^ 2")
        assert d.code == "E0316"
        assert d.message == "`^` needs an endomorphism, but `Res` is `A * B -> A`"
        assert "product-input morphism" in d.help

    def test_a_loss_is_not_a_training_step(self):
        d = one(
            "type Example = TokenId * TokenId\n"
            "let loss : Example -> Loss = (Embedding >> LinearToLogits >> Softmax) * TokenId "
            ">> CrossEntropy\n"
            "data examples : List[Example] = [[1, 2], [2, 3]]\n"
            "let step = MeanLoss(loss, examples)\nlet trained = step ^ 80",
            head=True,
        )
        assert d.code == "E0316"
        assert d.message == "`^` needs an endomorphism, but `step` is `Params(loss) -> Loss`"
        assert d.help == (
            "a training step must return `Params(loss)` to be iterated; "
            "`TrainStep(loss, data, lr)` is such a step"
        )

    def test_non_endomorphisms(self):
        assert codes("let bad = Softmax ^ 2", head=True) == ["E0316"]
        assert codes("data t : TokenId = 1\nlet bad = t ^ 2", head=True) == ["E0316"]

    def test_exponent_must_be_a_sized_dim(self):
        assert codes("import std.ml\n" + self.SRC + "dim T\nlet bad = Step ^ T") == ["E0315"]
        assert codes("import std.ml\n" + self.SRC + "let bad = Step ^ A") == ["E0315"]


# ---------------------------------------------------------------------------- laws


class TestLaws:
    def test_laws_between_equal_types(self):
        p = clean(
            "law left : TokenId >> Embedding == Embedding\n"
            "law assoc : (Embedding >> LinearToLogits) >> Softmax == "
            "Embedding >> (LinearToLogits >> Softmax) within 1e-9\n"
            "law swap_twice : swap[Logits, Vector] >> swap[Vector, Logits] == Logits * Vector",
            head=True,
        )
        assert set(p.laws) == {"left", "assoc", "swap_twice"}
        assert p.laws["assoc"].tolerance == 1e-9

    def test_law_sides_of_different_types(self):
        d = one("law bad : Softmax == Logits", head=True)
        assert d.code == "E0501"
        assert d.message == "the two sides of law `bad` have different types"
        assert d.notes == ("the right-hand side is `Logits -> Logits`",)
        assert [label.message for label in d.labels] == ["this is `Logits -> Distribution`"]
        assert (line(d), d.span.column) == (1, 22)

    def test_law_sides_differ_in_domain(self):
        assert codes("law bad : Embedding == LinearToLogits", head=True) == ["E0501"]

    def test_law_with_broken_side_reports_once(self):
        assert codes("law bad : Sofmax == Softmax", head=True) == ["E0306"]

    def test_duplicate_law(self):
        assert codes("law l : Logits == Logits\nlaw l : Logits == Logits", head=True) == ["E0002"]


# ---------------------------------------------------------------------------- wiring blocks


class TestWiring:
    SRC = (
        "object H : Real[D]\nparam Wq : Real[D, D] = zeros\n"
        "morphism Attention : H -> H = linear(Wq)\n"
        "morphism Residual : H * H -> H = add\nmorphism Norm : H -> H = relu\n"
    )

    def test_primitives_apply_to_wires(self):
        p = clean(
            self.SRC + "let blk(x: H) -> H = { a = relu(x); b = add(x, a); return tanh(b) }\n"
            "let lin(x: H) -> H = { return linear(Wq)(x) }\n",
            head=True,
        )
        blk = p.definitions["blk"].term
        assert (str(blk.dom), str(blk.cod)) == ("H", "H")
        assert [step[1].name for step in blk.body.steps] == ["relu", "add", "tanh"]
        assert [step[2] for step in blk.body.steps] == [("x",), ("x", "a"), ("b",)]
        assert [p.name for p in p.definitions["lin"].term.ports] == ["Wq"]

    def test_blocks(self):
        p = clean(
            self.SRC + "let block(x: H) -> H = { a = Attention(x); return Norm(Residual(x, a)) }\n"
            "let block2(x: H) -> H = {\n  a = Attention(x)\n  r = Residual(x, a);\n"
            "  return Norm(r)\n}\n"
            "let two(x: H, y: H) -> H * H = { return <y, x> }\n"
            "let dup(x: H) -> H * H = { return <x, x> }\n"
            "let drop(x: H, y: H) -> H = { return x }\n"
            "let nested(x: H) -> H = { return block(block2(x)) }\n",
            head=True,
        )
        assert sig(p, "block") == "H -> H"
        assert sig(p, "block2") == "H -> H"
        assert sig(p, "two") == "H * H -> H * H"
        assert sig(p, "dup") == "H -> H * H"
        assert sig(p, "drop") == "H * H -> H"
        assert p.definitions["block"].kind == "wiring"
        assert ports(p, "block", "param") == {"Wq": "Real[D, D]"}
        assert ports(p, "nested", "param") == {"Wq": "Real[D, D]"}

    def test_block_used_in_a_pipeline(self):
        p = clean(
            self.SRC + "let block(x: H) -> H = { a = Attention(x); return Residual(x, a) }\n"
            "let deep = block ^ 3 >> Norm",
            head=True,
        )
        assert sig(p, "deep") == "H -> H"

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ("{ a = Attention(y); return a }", "E0301"),
            ("{ return Attention(Attention(x), x) }", "E0201"),
            ("{ a = Attention(x); a = Attention(a); return a }", "E0002"),
            ("{ return Residual(x) }", "E0201"),
            ("{ return Embedding(x) }", "E0201"),
        ],
    )
    def test_block_errors(self, body, code):
        assert codes(self.SRC + f"let blk(x: H) -> H = {body}", head=True) == [code]

    def test_block_return_type(self):
        d = one(self.SRC + "let blk(x: H) -> Logits = { return Attention(x) }", head=True)
        assert (d.code, d.message) == (
            "E0205",
            "`blk` is declared to return `Logits`, but returns `H`",
        )

    def test_inputs_named_twice(self):
        assert codes(self.SRC + "let blk(x: H, x: H) -> H = { return x }", head=True) == ["E0002"]

    def test_bare_morphism_in_a_block(self):
        d = one(self.SRC + "let blk(x: H) -> H = { return Norm }", head=True)
        assert d.code == "E0302"


# ---------------------------------------------------------------------------- names


class TestNames:
    def test_duplicates(self):
        p = check("object Vector : Real[3]\nlet x = Logits\nlet x = Vector", head=True)
        diags = p.diagnostics
        assert [(d.code, d.message) for d in diags] == [
            ("E0002", "`Vector` is declared twice"),
            ("E0002", "`x` is declared twice"),
        ]
        assert [label.message for label in diags[0].labels] == ["first declared here"]
        assert diags[0].labels[0].span.line == 5
        assert diags[0].help == "rename one of them"
        # the first declaration wins
        assert sig(p, "x") == "Logits -> Logits"
        assert str(p.objects["Vector"].carrier) == "Real[D]"

    @pytest.mark.parametrize(
        ("src", "message", "help"),
        [
            ("let z = Embeding >> Softmax", "unknown name `Embeding`", "did you mean `Embedding`?"),
            ("let z = Logits >> sofmax", "unknown name `sofmax`", "did you mean `softmax`?"),
            (
                "morphism f : Logit -> Vector = relu",
                "unknown object or type `Logit`",
                "did you mean `Logits`?",
            ),
            ("let z = Qwerty", "unknown name `Qwerty`", None),
        ],
    )
    def test_unknown_names_did_you_mean(self, src, message, help):
        d = one(src, head=True)
        assert (d.message, d.help) == (message, help)

    def test_unknown_module(self):
        d = one("import std.mll")
        assert (d.code, d.help) == ("E0701", "did you mean `std.ml`?")

    def test_a_dim_is_not_a_morphism(self):
        assert codes("let x = V", head=True) == ["E0303"]

    def test_recursive_definitions(self):
        d = one("let a = b\nlet b = a")
        assert (d.code, d.message) == ("E0003", "`a` is defined in terms of itself (a -> b -> a)")
        assert codes("type L = L") == ["E0003"]
        assert codes("object O : List[O]") == ["E0003"]

    def test_calling_a_morphism(self):
        d = one("let x = Embedding(3)", head=True)
        assert (d.code, d.message) == (
            "E0314",
            "`Embedding` is a morphism; it is composed, not called",
        )

    def test_calling_a_morphism_help(self):
        d = one("let x = Embedding(3)", head=True)
        assert "{name}" not in d.help and "{{" not in d.help
        assert "`let f(x: A) -> B = { return Embedding(x) }`" in d.help

    def test_calling_an_object(self):
        d = one("let t = TokenId(3) >> Embedding", head=True)
        assert "unknown" not in d.message
        assert "TokenId" in d.message

    def test_raw_integer_is_not_a_token_id(self):
        d = one("let row = 3 >> Embedding", head=True)
        assert d.code == "E0201"
        assert d.message == (
            "expected `TokenId`, found the integer `3`: `Embedding` cannot take the output of `3`"
        )
        assert d.help == (
            "a raw value is not a `TokenId`: build it at its boundary, e.g. "
            "`data x : TokenId = 3`, then compose `x >> Embedding`"
        )
        clean("data three : TokenId = 3\nlet row = three >> Embedding", head=True)


# ---------------------------------------------------------------------------- composition


class TestComposition:
    def test_missing_middle_morphism(self):
        d = one("let bad = Embedding >> Softmax", head=True)
        assert d.code == "E0201"
        assert d.message == "cannot compose `Embedding` with `Softmax`: `Vector` is not `Logits`"
        assert d.help == (
            "insert `LinearToLogits : Vector -> Logits`: `Embedding >> LinearToLogits >> Softmax`"
        )
        assert (line(d), d.span.column, d.span.end_column) == (1, 24, 31)
        assert [(lb.span.column, lb.message) for lb in d.labels] == [(11, "this gives `Vector`")]
        assert d.figure is not None and d.figure.junction == 0

    def test_two_step_bridge(self):
        d = one("let bad = Embedding >> CrossEntropy * TokenId", head=True)
        assert d.code in ("E0201", "E0202")
        d = one("morphism Back : Distribution -> Vector\nlet bad = Softmax >> Softmax",
                head=True)  # fmt: skip
        assert d.code == "E0201"
        assert d.help is not None and "Back >> LinearToLogits" in d.help

    def test_pipeline_without_target(self):
        d = one("let bad = Logits >> Softmax >> CrossEntropy", head=True)
        assert d.code == "E0202"
        assert d.message == (
            "`CrossEntropy` takes `Distribution * TokenId` (2 wires), "
            "but `Softmax` gives `Distribution` (1 wire)"
        )
        assert "`Softmax * TokenId`" in d.help
        assert "`morphism CrossEntropy[target: TokenId] : Distribution -> Loss`" in d.help

    def test_cross_entropy_on_logits(self):
        d = one("let bad = Logits * TokenId >> CrossEntropy", head=True)
        assert d.code == "E0201"
        assert "`Logits` is not `Distribution` (wire 1 of 2)" in d.message
        assert d.help == "insert `Softmax` on that wire: `Softmax * TokenId >> CrossEntropy`"
        p = clean("let ok = Softmax * TokenId >> CrossEntropy", head=True)
        assert sig(p, "ok") == "Logits * TokenId -> Loss"

    def test_every_junction_of_a_chain_is_reported(self):
        diags = check("let bad = Embedding >> Softmax >> Softmax", head=True).diagnostics
        assert [d.code for d in diags] == ["E0201", "E0201"]

    def test_same_carrier_note_when_dims_are_equal(self):
        d = one(
            "import std.ml\ndim V = 5\ndim D = 5\nobject Vector : Real[D]\n"
            "object Logits : Real[V]\nobject Distribution : Simplex[V]\n"
            "morphism L : Vector -> Vector = relu\n"
            "morphism Softmax : Logits -> Distribution = softmax\nlet bad = L >> Softmax"
        )
        assert any("nominal" in n for n in d.notes)


# ---------------------------------------------------------------------------- data and training


class TestDataAndTraining:
    def test_data_points(self):
        p = clean(
            "data t : TokenId = 3\ndata v : Vector = [1.0, 2.0, 3.0, 4.0]\n"
            "data pair : TokenId * TokenId = [1, 2]\n"
            "data pairs : List[TokenId * TokenId] = [[1, 2], [3, 4]]\n"
            'data big : Vector = load("v.npy")\n',
            head=True,
        )
        assert sig(p, "pair") == "Unit -> TokenId * TokenId"
        assert sig(p, "pairs") == "Unit -> List[TokenId * TokenId]"

    def test_data_literal_errors(self):
        assert codes("data t : TokenId = 7", head=True) == ["E0416"]
        assert codes("data t : TokenId = 1.5", head=True) == ["E0415"]
        assert codes("data p : TokenId * TokenId = [1, 2, 3]", head=True) == ["E0415"]
        assert codes('data p : Vector = load("v.txt")', head=True) == ["E0413"]

    def test_data_literal_shape(self):
        assert codes("data v : Vector = [1.0, 2.0]", head=True) == ["E0415"]

    TRAIN = (
        "type Example = TokenId * TokenId\n"
        "let loss : Example -> Loss = (Embedding >> LinearToLogits >> Softmax) * TokenId "
        ">> CrossEntropy\n"
        "data ex : List[Example] = [[1, 2], [2, 3]]\n"
    )

    def test_training_families(self):
        p = clean(
            self.TRAIN + "let init = Init(loss)\nlet measure = MeanLoss(loss, ex)\n"
            "let step = TrainStep(loss, ex, lr = 0.5)\nlet mom = Momentum(loss, ex, lr = 0.1)\n"
            "let adam = Adam(loss, ex, lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)\n"
            "let a0 = AdamInit(loss)\nlet back = AdamParams(loss)\n"
            "let after = Init(loss) >> step ^ 80 >> MeanLoss(loss, ex)\n"
            "let adam_after = AdamInit(loss) >> adam ^ 3 >> AdamParams(loss) >> measure\n",
            head=True,
        )
        assert {n: sig(p, n) for n in ("init", "measure", "step", "mom", "adam", "a0", "back")} == {
            "init": "Unit -> Params(loss)",
            "measure": "Params(loss) -> Loss",
            "step": "Params(loss) -> Params(loss)",
            "mom": "MomentumState(loss) -> MomentumState(loss)",
            "adam": "AdamState(loss) -> AdamState(loss)",
            "a0": "Unit -> AdamState(loss)",
            "back": "AdamState(loss) -> Params(loss)",
        }
        assert sig(p, "after") == "Unit -> Loss"
        assert sig(p, "adam_after") == "Unit -> Loss"

    @pytest.mark.parametrize(
        ("expr", "code"),
        [
            ("TrainStep(loss)", "E0317"),
            ("TrainStep(loss, ex, lr = 0)", "E0320"),
            ("TrainStep(loss, ex, lr = -1)", "E0320"),
            ("Adam(loss, ex, lr = 0.1, beta1 = 1.0)", "E0320"),
            ("Adam(loss, ex, lr = 0.1, eps = 0)", "E0320"),
            ("TrainStep(loss, ex, lr = 0.1, gamma = 2)", "E0307"),
            ("TrainStep(loss, ex)", "E0307"),
            ("TrainStep(loss, ex, 0.1, lr = 1.0)", "E0307"),
            ("Adam(loss, ex, 0.1, 0.9, beta1 = 0.8)", "E0307"),
            ("TrainStep(loss, Logits, lr = 0.1)", "E0319"),
            ("Init()", "E0304"),
            ("Init(loss, ex)", "E0307"),
            ("MeanLoss(loss, Embedding)", "E0319"),
            ("Init(Logits)", "E0321"),
            ("TrainStep(Softmax * TokenId >> CrossEntropy, ex, lr = 0.1)", "E0321"),
        ],
    )
    def test_training_family_errors(self, expr, code):
        assert codes(self.TRAIN + f"let x = {expr}", head=True) == [code]

    @pytest.mark.parametrize("declared", ["Params(3)", "AdamState(Softmax)"])
    def test_a_state_type_of_something_without_params(self, declared):
        d = one(f"type S = {declared}", head=True)
        argument = declared[declared.index("(") + 1 : -1]
        assert d.code == "E0321"
        assert d.message == f"`{declared}` has nothing to train: `{argument}` uses no param"
        assert d.span.column == len("type S = ") + declared.index("(") + 2

    def test_data_of_the_wrong_examples(self):
        d = one(self.TRAIN + "data toks : List[TokenId] = [1, 2]\n"
                "let x = MeanLoss(loss, toks)", head=True)  # fmt: skip
        assert d.code == "E0319"
        assert d.message == (
            "`MeanLoss`'s data holds `TokenId`, but the loss takes `TokenId * TokenId`"
        )


# ---------------------------------------------------------------------------- holes


class TestHoles:
    def test_hole_between_neighbours(self):
        d = one("let x = Embedding >> ?fix >> Softmax", head=True)
        assert (d.code, d.message, d.help) == (
            "E0601",
            "hole `?fix` needs a morphism `Vector -> Logits`",
            "fits: `LinearToLogits`",
        )

    def test_hole_from_the_signature(self):
        d = one("let x : Logits -> Distribution = ?", head=True)
        assert (d.message, d.help) == (
            "hole `?` needs a morphism `Logits -> Distribution`",
            "fits: `Softmax`",
        )
        d = one("let x : Distribution -> Vector = ?", head=True)
        assert d.help == "no declared morphism has this type"

    def test_hole_at_the_end_of_a_declared_chain(self):
        d = one("let x : TokenId -> Logits = Embedding >> ?", head=True)
        assert d.message == "hole `?` needs a morphism `Vector -> Logits`"

    def test_hole_without_context(self):
        d = one("let x = ?", head=True)
        assert d.message == "hole `?`: its type cannot be inferred here"

    def test_a_hole_makes_the_program_incomplete_but_checks_the_rest(self):
        diags = check("let x = Embedding >> ? >> Softmax\nlet y = Nope", head=True).diagnostics
        assert [d.code for d in diags] == ["E0601", "E0306"]


# ---------------------------------------------------------------------------- imports


class TestImports:
    def test_relative_to_the_importing_file(self, tmp_path):
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib" / "dims.cat").write_text("dim V = 5\n")
        (tmp_path / "lib" / "objects.cat").write_text(
            'import "dims.cat"\nobject TokenId : Index[V]\n'
        )
        main = tmp_path / "main.cat"
        main.write_text('import "lib/objects.cat"\nlet f = TokenId\n')
        p = check_file(main)
        assert p.diagnostics == []
        assert sig(p, "f") == "TokenId -> TokenId"
        assert p.dims == {"V": 5}

    def test_diamond_is_loaded_once(self, tmp_path):
        (tmp_path / "base.cat").write_text("dim V = 5\nobject TokenId : Index[V]\n")
        (tmp_path / "left.cat").write_text('import "base.cat"\nobject Left : Real[V]\n')
        (tmp_path / "right.cat").write_text('import "base.cat"\nobject Right : Real[V]\n')
        main = tmp_path / "main.cat"
        main.write_text('import "left.cat"\nimport "right.cat"\nimport "base.cat"\n'
                        "let f = Left * Right * TokenId\n")  # fmt: skip
        p = check_file(main)
        assert p.diagnostics == []
        assert sig(p, "f") == "Left * Right * TokenId -> Left * Right * TokenId"
        assert sum(1 for f in p.sources if f.endswith("base.cat")) == 1

    def test_cycle_is_reported(self, tmp_path):
        (tmp_path / "a.cat").write_text('import "b.cat"\nobject A : Real[2]\n')
        (tmp_path / "b.cat").write_text('import "a.cat"\nobject B : Real[2]\n')
        diags = check_file(tmp_path / "a.cat").diagnostics
        assert [d.code for d in diags] == ["E0702"]
        assert diags[0].message == "import cycle: a.cat -> b.cat -> a.cat"
        assert diags[0].span.file.endswith("b.cat")

    def test_self_import(self, tmp_path):
        (tmp_path / "s.cat").write_text('import "s.cat"\nobject A : Real[2]\n')
        assert [d.code for d in check_file(tmp_path / "s.cat").diagnostics] == ["E0702"]

    def test_cycle_through_a_relative_root(self, tmp_path, monkeypatch):
        (tmp_path / "a.cat").write_text('import "b.cat"\nobject A : Real[2]\n')
        (tmp_path / "b.cat").write_text('import "a.cat"\nobject B : Real[2]\n')
        monkeypatch.chdir(tmp_path)
        diags = check_file("a.cat").diagnostics
        assert [d.code for d in diags] == ["E0702"]

    def test_missing_file(self, tmp_path):
        main = tmp_path / "main.cat"
        main.write_text('import "nope.cat"\n')
        d = check_file(main).diagnostics[0]
        assert d.code == "E0703"
        assert d.message.startswith("cannot read `nope.cat`")
        assert str(tmp_path / "nope.cat") in d.help

    def test_errors_in_imported_files_are_reported_there(self, tmp_path):
        (tmp_path / "lib.cat").write_text("object A : Reel[2]\n")
        main = tmp_path / "main.cat"
        main.write_text('import "lib.cat"\nlet f = A\n')
        diags = check_file(main).diagnostics
        assert [d.code for d in diags] == ["E0401"]
        assert diags[0].span.file.endswith("lib.cat")

    def test_parse_error_in_an_import_does_not_hide_the_main_file(self, tmp_path):
        (tmp_path / "lib.cat").write_text("object A Real[2]\n")
        main = tmp_path / "main.cat"
        main.write_text('import "lib.cat"\nlet f = Nope\n')
        assert sorted(d.code for d in check_file(main).diagnostics) == ["E0101", "E0306"]

    def test_std_modules(self):
        clean("import std.ml\nimport std.attention\nimport std.optim\nimport std.ml")


# ---------------------------------------------------------------------------- one pass, no cascade


class TestAllDiagnosticsOnePass:
    def test_three_independent_errors_in_source_order(self):
        diags = check(
            "let c = Embedding >> Softmax\nlet a = Vectr\nlet d = Softmax ^ 2\n",
            head=True,
        ).diagnostics
        assert [(d.code, line(d)) for d in diags] == [("E0201", 1), ("E0306", 2), ("E0316", 3)]

    def test_errors_of_every_phase_in_one_pass(self):
        diags = check(
            "object X : Reel\nmorphism M : Logits -> Logits = relu\nlet a = M >> Softmax >> M\n"
            "law l : Softmax == M\nlet h = Embedding >> ?\ndim Z = 0\n",
            head=True,
        ).diagnostics
        assert [(d.code, line(d)) for d in diags] == [
            ("E0401", 1),
            ("E0201", 3),
            ("E0501", 4),
            ("E0601", 5),
            ("E0406", 6),
        ]

    def test_import_errors_are_in_source_order_too(self):
        diags = check("let a = Nope\nimport std.mll\nlet b = Nope2").diagnostics
        assert [d.span.line for d in diags] == [1, 2, 3]

    def test_broken_definition_used_three_times_gives_one_error(self):
        diags = check(
            "morphism Broken : Logits -> Distribution = sofmax\n"
            "let u1 = Broken\nlet u2 = Broken >> Distribution\nlet u3 = LinearToLogits >> Broken\n"
            "law l : Broken == Broken",
            head=True,
        ).diagnostics
        assert [d.code for d in diags] == ["E0306"]

    def test_broken_object_used_three_times_gives_one_error(self):
        diags = check(
            "object Bad : Reel[V]\nmorphism f : Bad -> Bad = relu\nlet u1 = f >> f\n"
            "let u2 = Bad\ndata u3 : Bad = [1, 2, 3, 4, 5]",
            head=True,
        ).diagnostics
        assert [d.code for d in diags] == ["E0401"]

    def test_broken_dim_gives_one_error(self):
        diags = check(
            "import std.ml\ndim Z = 0\nobject A : Real[Z]\nobject B : Real[Z, Z]\n"
            "morphism f : A -> A = relu"
        ).diagnostics
        assert [d.code for d in diags] == ["E0406"]

    def test_broken_param_gives_one_error(self):
        diags = check(
            "param Q : Real[V, D] = relu\nmorphism E2 : TokenId -> Vector = lookup(Q)\n"
            "let u1 = E2 >> LinearToLogits\nlet u2 = E2\nlet u3 = <E2, E2>",
            head=True,
        ).diagnostics
        assert [d.code for d in diags] == ["E0410"]

    def test_a_parse_error_is_the_files_only_diagnostic(self):
        diags = check("let a = Softmax >>\n", head=True).diagnostics
        assert [d.code for d in diags] == ["E0102"]
        assert diags[0].message == "dangling `>>`: expected a morphism after it, found end of file"


# ---------------------------------------------------------------------------- wording


@pytest.mark.parametrize(
    "src",
    [
        "morphism Positive[target: TokenId] : Logits -> Logits = relu",
        "param p : Real[V] = zeros\nmorphism Score : TokenId -> Loss = lookup(p)",
        "let pairs = [1, 2, 3] >> windows(2)",
    ],
)
def test_messages_do_not_show_fresh_variables(src):
    d = one(src, head=True)
    text = " ".join([d.message, *d.notes, d.help or ""])
    assert "#" not in text, text


def test_messages_show_no_shape_prefix_variables():
    """`relu` is batch-polymorphic (`Real[*s, n]`); a message shows the unbatched value."""
    d = one("morphism X : Vector -> Logits = LinearToLogits >> relu >> LinearToLogits", head=True)
    assert d.code == "E0201"
    assert "*s" not in d.message and "found `Real[V]`" in d.message
    assert all("*s" not in label.message for label in d.labels)
