"""Carrier kinds have one spec each (`catdsl.typesys.carriers`). These tests tie the spec to
every phase's table of behaviour keyed by kind, and its classification (how a kind is written,
its dtype, whether cotangents flow) to what the phases do."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import REPO

import catdsl
from catdsl import CatError
from catdsl.frontend.json_form import JSON_FORMS, carrier_form
from catdsl.frontend.sampling import SAMPLERS, Sampler
from catdsl.semantics.invariants import ENTRY_CHECKS, FLAG_CHECKS, make_check
from catdsl.semantics.values import COERCIONS, array_dtype, coerce, is_differentiable
from catdsl.typesys.carriers import CARRIER_KINDS, Axes, CarrierKind, DtypeClass
from catdsl.typesys.objects import FLAGS
from catdsl.typesys.reserved import FUNCTORS

KIND_TABLES = {
    "semantics.values.COERCIONS": COERCIONS,
    "semantics.invariants.ENTRY_CHECKS": ENTRY_CHECKS,
    "frontend.sampling.SAMPLERS": SAMPLERS,
    "frontend.json_form.JSON_FORMS": JSON_FORMS,
}
LANGUAGE = REPO / "docs" / "language.md"
ARRAYS = [kind for kind in CARRIER_KINDS.values() if kind.is_array]
CONTAINERS = [kind for kind in CARRIER_KINDS.values() if kind.element]


def _id(param: object) -> str:
    return param.name if isinstance(param, CarrierKind) else str(param)


def written(kind: CarrierKind, element: str = "Real[V]") -> str:
    """A well-formed type of `kind`, as its spec says the kind is written."""
    if kind.element:
        return f"{kind.name}[{element}]"
    if kind.axes is Axes.NONE and not kind.bounded:
        return kind.name
    return f"{kind.name}[V]"


def identities(*types: str) -> catdsl.Program:
    """A program with one identity morphism `K0`, `K1`, ... on each type."""
    lines = ["import std.ml", "import std.attention", "dim V = 3"]
    lines += [f"morphism K{i} : {t} -> {t} = {t}" for i, t in enumerate(types)]
    return catdsl.loads("\n".join(lines))


def sample(program: catdsl.Program, name: str, seed: int = 0) -> object:
    sampler = Sampler(np.random.default_rng(seed), program.params)
    (value,) = sampler.prod(program[name].dom)
    return value


# ---------------------------------------------------------------- the tables cover the spec


@pytest.mark.parametrize("table", KIND_TABLES)
def test_every_phase_table_covers_every_carrier_kind(table):
    keys = set(KIND_TABLES[table])
    assert keys - set(CARRIER_KINDS) == set(), f"{table} has entries for no carrier kind"
    missing = set(CARRIER_KINDS) - keys
    assert missing == set(), f"{table} lacks the carrier kinds {sorted(missing)}"


def test_the_run_time_checks_every_flag_the_checker_admits():
    assert set(FLAG_CHECKS) == set(FLAGS)


def test_every_functor_acts_on_a_container_kind():
    assert set(FUNCTORS) <= {kind.name for kind in CONTAINERS}


def test_the_spec_lists_the_languages_kinds():
    assert list(CARRIER_KINDS) == [
        "Real",
        "Index",
        "Simplex",
        "Bool",
        "AllowMask",
        "BlockMask",
        "Nat",
        "Int",
        "Symbol",
        "List",
        "Option",
    ]
    for name, kind in CARRIER_KINDS.items():
        assert kind.name == name and kind.doc
        assert kind.element == (kind.dtype is DtypeClass.CONTAINER), name
        assert not (kind.element and (kind.bounded or kind.axes is not Axes.NONE)), name


def _first_cells(table_header: str) -> set[str]:
    """The names starting the first cell of each row of the language page's table with this
    header row (`| carrier | values |`)."""
    text = LANGUAGE.read_text(encoding="utf-8")
    table = text.split(table_header, 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `(\w+)", table, re.M))


def test_the_language_page_documents_every_kind_and_flag():
    assert set(CARRIER_KINDS) <= _first_cells("| carrier | values |")
    assert set(FLAGS) <= _first_cells("| invariant | holds when |")


# ---------------------------------------------------------------- how a kind is written


@pytest.mark.parametrize("kind", CARRIER_KINDS.values(), ids=_id)
def test_a_kind_is_written_as_its_spec_says(kind):
    program = catdsl.loads(f"dim V = 3\nobject X : {written(kind)}")
    assert str(program.checked.objects["X"].carrier) == written(kind)
    if not kind.written_bare:
        with pytest.raises(CatError) as caught:
            catdsl.loads(f"object X : {kind.name}")
        assert kind.element or caught.value.diagnostics[0].code == "E0404"
    if not kind.takes_arguments:
        with pytest.raises(CatError) as caught:
            catdsl.loads(f"object X : {kind.name}[3]")
        assert caught.value.diagnostics[0].code == "E0404"


# ---------------------------------------------------------------- classification agrees


@pytest.mark.parametrize("kind", ARRAYS, ids=_id)
@pytest.mark.parametrize("plan_dtype", [np.float64, np.float32])
def test_a_kinds_dtype_class_gives_its_array_dtype(kind, plan_dtype):
    program = identities(written(kind))
    carrier = program["K0"].dom.atoms[0]
    dtype = array_dtype(carrier, np.dtype(plan_dtype))
    expected = {
        DtypeClass.REAL: np.dtype(plan_dtype),
        DtypeClass.INTEGER: np.dtype(np.int64),
        DtypeClass.BOOLEAN: np.dtype(np.bool_),
        DtypeClass.SYMBOL: np.dtype(np.str_),
    }
    assert dtype == expected[kind.dtype]
    got = coerce(sample(program, "K0"), carrier, plan_dtype).dtype
    assert got == dtype if dtype.kind != "U" else got.kind == "U"  # strings: as long as needed


@pytest.mark.parametrize("kind", CARRIER_KINDS.values(), ids=_id)
def test_a_sample_of_every_kind_passes_its_entry_check(kind):
    types = [written(kind)] + ([written(kind, "Index[V]")] if kind.element else [])
    program = identities(*types)
    for i in range(len(types)):
        atom = program[f"K{i}"].dom.atoms[0]
        check = make_check(atom, "a sample")
        if check is not None:
            check(sample(program, f"K{i}"), {})


@pytest.mark.parametrize(
    ("kind", "element"),
    [(kind, None) for kind in ARRAYS]
    + [(kind, element) for kind in CONTAINERS for element in ("Real[V]", "Index[V]")],
    ids=_id,
)
def test_cotangents_flow_exactly_along_differentiable_kinds(kind, element):
    program = identities(written(kind, element) if element else written(kind))
    morphism = program["K0"]
    atom = morphism.dom.atoms[0]
    value = sample(program, "K0")
    differentiable = kind.differentiable and (
        element is None or CARRIER_KINDS[element.split("[")[0]].differentiable
    )
    assert is_differentiable(atom) == differentiable
    (cotangent,) = morphism.vjp(value, np.ones(np.shape(value)))["inputs"]
    assert (cotangent is not None) == differentiable


# ---------------------------------------------------------------- the JSON form


@pytest.mark.parametrize("kind", CARRIER_KINDS.values(), ids=_id)
def test_every_kind_has_a_json_form_of_plain_data(kind):
    program = identities(written(kind))
    carrier = program["K0"].dom.atoms[0]
    form = carrier_form(sample(program, "K0"), carrier)
    assert json.loads(json.dumps(form)) == form


def test_the_json_form_of_lists_records_and_options():
    program = catdsl.loads(
        "dim V = 3\nobject Pair : Index[V] * Real\n"
        "morphism L : List[Pair] -> List[Pair] = List[Pair]\n"
        "morphism O : Option[Real[V]] -> Option[Real[V]] = Option[Real[V]]"
    )
    pairs = program["L"]([(1, 0.5), (2, 1.5)])
    assert program["L"].json_form(pairs) == [[1, 2], [0.5, 1.5]]
    assert program["O"].json_form(None) is None
    assert program["O"].json_form(program["O"]([1, 2, 3])) == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- a law over every kind

EVERY_CARRIER = """
import std.ml
import std.attention

dim V = 3
dim D = 2

object TokenId : Index[V]
object Vector  : Real[D]
object Dist    : Simplex[V]
object Mask    : Bool[V, V]
object Allowed : AllowMask[V, V]
object Blocked : BlockMask[V, V]
object Scores  : Real[V, V]
object Count   : Nat
object Offset  : Int
object Label   : Symbol

param E : Real[V, D] = normal(seed = 1)

morphism Embed : TokenId -> Vector = lookup(E)

law every_carrier :
  Option(Embed) * List(Embed) * Dist * mask_scores * Count * Offset * Label * block_to_allow
  * allow_to_block
  == Option(TokenId >> Embed) * List(Embed >> Vector) * Dist * (Scores * Mask >> mask_scores)
     * Count * Offset * Label * (Blocked >> block_to_allow) * (Allowed >> allow_to_block)
"""


def test_a_law_over_every_carrier_kind_holds():
    program = catdsl.loads(EVERY_CARRIER)
    law = program.checked.laws["every_carrier"]
    kinds = {c.kind for c in _carriers(law.lhs.dom.atoms)}
    assert kinds == set(CARRIER_KINDS)
    (report,) = program.check_laws(samples=4)
    assert report.holds, report


def _carriers(atoms):
    """Every structural carrier inside these atoms, containers' elements included."""
    for atom in atoms:
        carrier = getattr(atom, "carrier", atom)
        if hasattr(carrier, "atoms"):
            yield from _carriers(carrier.atoms)
        elif hasattr(carrier, "kind") and hasattr(carrier, "elem"):
            yield carrier
            if carrier.elem is not None:
                yield from _carriers(carrier.elem.atoms)


def test_one_element_rank_for_every_phase():
    """The checker's kernel ranks and the run's batch checks read one `element_rank`: a list
    adds its axis to its element's, and a list of several wires counts that axis only."""
    from catdsl.typesys.dims import Dim
    from catdsl.typesys.types import Carrier, Prod, Shape, element_rank

    vector = Carrier("Real", Shape((Dim.const(3),)))
    assert element_rank(vector) == 1
    assert element_rank(Carrier("List", elem=Prod((vector,)))) == 2
    assert element_rank(Carrier("List", elem=Prod((vector, Carrier("Nat"))))) == 1
    assert element_rank(Carrier("Option", elem=Prod((vector,)))) == 0
    assert element_rank(Carrier("Nat")) == 0
