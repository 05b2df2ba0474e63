"""The Python API's contract: `catdsl.load` / `catdsl.loads` -> `Program`,
`program[name]` a typed, callable `Morphism`, `program.params`, `_repr_svg_`, `vjp`."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl
from catdsl import CatError

CARD = str(PROGRAMS / "card.cat")
ADAM = str(PROGRAMS / "adam_challenge.cat")
CHAIN = str(PROGRAMS / "chain_rule.cat")
ILLEGAL = str(PROGRAMS / "errors" / "embedding_softmax.cat")


@pytest.fixture(scope="module")
def card() -> catdsl.Program:
    return catdsl.load(CARD)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def by_hand_predict(params: dict, token: int) -> np.ndarray:
    return softmax(params["E"][token] @ params["W"] + params["b"])


# ============================================================== errors
def test_loads_reports_an_unknown_name_with_its_span() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads("object A : Real\nlet x = A >> B\n", file="t.cat")
    (diag,) = caught.value.diagnostics
    assert diag.code == "E0306"
    assert diag.message == "unknown name `B`"
    assert (diag.span.file, diag.span.line, diag.span.column) == ("t.cat", 2, 14)
    assert (diag.span.end_line, diag.span.end_column) == (2, 15)
    text = str(caught.value)
    assert text.startswith("t.cat:2:14: error[E0306]: unknown name `B`")
    assert "let x = A >> B" in text


def test_loads_reports_a_parse_error_with_help() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads("object A : Real\nlet x = A >>\n")
    diag = caught.value.first
    assert diag.code == "E0102"
    assert diag.span.file == "<string>"
    assert diag.span.line == 2
    assert diag.help == "finish the expression after `>>` or remove the `>>`"


def test_loads_reports_every_error_in_one_pass() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.loads("object A : Real\nlet x = A >> B\nlet y = C >> A\n")
    assert [(d.code, d.span.line) for d in caught.value.diagnostics] == [
        ("E0306", 2),
        ("E0306", 3),
    ]


def test_load_reports_an_ill_typed_composition() -> None:
    with pytest.raises(CatError) as caught:
        catdsl.load(ILLEGAL)
    diag = caught.value.first
    assert diag.code == "E0201"
    assert (diag.span.file, diag.span.line, diag.span.column) == (ILLEGAL, 21, 28)
    assert "`Vector` is not `Logits`" in diag.message
    assert "LinearToLogits" in diag.help
    assert ILLEGAL in caught.value.sources


def test_load_of_a_missing_file_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError, match=r"no/such/file\.cat"):
        catdsl.load("no/such/file.cat")


def test_cat_error_is_an_exception_with_a_readable_message() -> None:
    with pytest.raises(Exception, match=r"error\[E0306\]"):
        catdsl.loads("let x = Nope\n")


# ============================================================== morphisms
def test_a_morphism_has_dom_cod_and_ports(tiny, card) -> None:
    predict = tiny["predict"]
    assert (str(predict.dom), str(predict.cod), predict.ports) == ("TokenId", "Distribution", {})
    loss = tiny["loss"]
    assert (str(loss.dom), str(loss.cod)) == ("TokenId * TokenId", "Loss")
    pipeline = card["pipeline"]
    assert (str(pipeline.dom), str(pipeline.cod)) == ("Logits", "Loss")
    assert pipeline.ports == {"target": "TokenId"}
    assert pipeline.type_text == "Logits -> Loss [target: TokenId]"
    assert repr(pipeline) == "<Morphism pipeline : Logits -> Loss [target: TokenId]>"
    step = tiny["step"]
    assert (str(step.dom), str(step.cod)) == ("Params(loss)", "Params(loss)")
    assert str(tiny["loss_after"].dom) == "Unit"


def test_program_names_and_repr(tiny) -> None:
    assert tiny.names[:3] == ["Embedding", "LinearToLogits", "Softmax"]
    assert "loss_after" in tiny
    assert "composed_is_direct" not in tiny  # a law, not a definition
    assert repr(tiny) == f"<Program {TINY}: 14 definitions, 4 laws>"


def test_call_on_a_single_input(tiny) -> None:
    probs = tiny["predict"](1)
    assert probs.shape == (5,)
    assert np.allclose(probs, by_hand_predict(tiny.params, 1), rtol=0, atol=1e-15)
    assert np.array_equal(tiny["predict"](np.int64(1)), probs)
    assert np.array_equal(tiny["DirectPredict"](1), probs)


def test_call_on_a_batch(tiny) -> None:
    probs = tiny["predict"](np.array([1, 2, 3]))
    assert probs.shape == (3, 5)
    for row, token in zip(probs, [1, 2, 3], strict=True):
        assert np.array_equal(row, tiny["predict"](token))


def test_call_on_a_product_input(tiny) -> None:
    loss = tiny["loss"]((1, 2))
    assert float(loss) == pytest.approx(-np.log(tiny["predict"](1)[2]), rel=1e-12)
    assert tiny["loss"]([1, 2]) == loss


def test_call_with_ports_as_keywords(card) -> None:
    z = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    loss = card["pipeline"](z, target=2)
    assert float(loss) == pytest.approx(-np.log(softmax(z)[2]), rel=1e-12)
    assert card["FusedCrossEntropy"](z, target=2) == pytest.approx(float(loss), rel=1e-12)


def test_call_a_point(tiny) -> None:
    assert float(tiny["loss_before"]()) == pytest.approx(np.log(5), abs=1e-3)
    with pytest.raises(CatError) as caught:
        tiny["loss_before"](3)
    assert caught.value.first.code == "E0803"
    assert "takes no input" in caught.value.first.message


def test_call_a_product_point(tiny) -> None:
    inputs, targets = tiny["examples"]()
    assert inputs.tolist() == [1, 2, 3, 4, 1, 2, 3]
    assert targets.tolist() == [2, 3, 4, 1, 2, 3, 4]


def test_call_returns_records_as_dicts() -> None:
    adam = catdsl.load(ADAM)
    state = adam["one_step"]()
    assert set(state) == {"params", "m", "v", "step"}
    assert np.allclose(state["params"]["theta"], [0.9, -0.9])
    assert int(state["step"]) == 1
    params = adam["theta_after_one"]()
    assert set(params) == {"theta"}
    # an endomorphism of the state is callable on a state
    twice = adam["adam"](state)
    assert np.allclose(twice["params"]["theta"], adam["two_steps"]()["params"]["theta"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(), "`predict` needs an input of `TokenId`"),
        (lambda m: m(1, target=2), "unknown port `target`"),
    ],
)
def test_wrong_inputs_are_cat_errors(tiny, call, message: str) -> None:
    with pytest.raises(CatError, match=message):
        call(tiny["predict"])


def test_a_product_needs_every_component(tiny) -> None:
    with pytest.raises(CatError) as caught:
        tiny["loss"](1)
    assert caught.value.first.code == "E0803"
    assert "give 2 components" in caught.value.first.message


def test_missing_port_is_a_cat_error(card) -> None:
    with pytest.raises(CatError) as caught:
        card["pipeline"](np.zeros(5))
    assert caught.value.first.code == "E0804"
    assert caught.value.first.help == "ports: target"


def test_unknown_name_suggests_a_definition(tiny) -> None:
    with pytest.raises(CatError) as caught:
        tiny["predcit"]
    diag = caught.value.first
    assert diag.code == "E0801"
    assert diag.message == f"no definition named `predcit` in {TINY}"
    assert diag.help == "did you mean `predict`?"


def test_unknown_name_without_a_near_miss_lists_the_definitions(tiny) -> None:
    with pytest.raises(CatError) as caught:
        tiny["zzz"]
    assert caught.value.first.help.startswith("definitions: Embedding, LinearToLogits")


# ============================================================== invariants
@pytest.mark.parametrize("value", [1.5, np.array([1.0, 2.5]), [0.25]])
def test_non_integer_floats_are_not_token_ids(tiny, value) -> None:
    with pytest.raises(CatError) as caught:
        tiny["predict"](value)
    diag = caught.value.first
    assert diag.code == "R0416"
    assert "input 1 of `predict` is not a valid `TokenId`" in diag.message
    assert "expected integers" in diag.message


def test_a_float_port_is_not_a_token_id(card) -> None:
    with pytest.raises(CatError, match="the port `target` is not a valid `TokenId`"):
        card["pipeline"](np.zeros(5), target=2.5)


@pytest.mark.parametrize("value", [1.0, np.array([1.0, 2.0]), True])
def test_integral_floats_are_not_token_ids(tiny, value) -> None:
    with pytest.raises(CatError, match="`TokenId`"):
        tiny["predict"](value)


@pytest.mark.parametrize(
    ("token", "message"),
    [(5, "the index 5 is out of range (limit V = 5)"), (-1, "the entry -1 is negative")],
)
def test_out_of_range_token(tiny, token: int, message: str) -> None:
    with pytest.raises(CatError) as caught:
        tiny["predict"](token)
    assert caught.value.first.code == "R0412"
    assert message in caught.value.first.message


def test_a_distribution_must_sum_to_one(tiny) -> None:
    with pytest.raises(CatError) as caught:
        tiny["CrossEntropy"]((np.array([0.5, 0.6, 0, 0, 0]), 1))
    assert caught.value.first.code == "R0411"
    assert "not a valid `Distribution`" in caught.value.first.message
    fine = tiny["CrossEntropy"]((np.array([0.5, 0.5, 0, 0, 0]), 1))
    assert float(fine) == pytest.approx(np.log(2))


def test_list_invariant(tiny) -> None:
    with pytest.raises(CatError, match="the invariant `len >= 1` does not hold"):
        tiny["Windowing"]([])


# ============================================================== params
def test_params_have_the_declared_shapes(tiny) -> None:
    params = tiny.params
    assert {k: v.shape for k, v in params.items()} == {"E": (5, 4), "W": (4, 5), "b": (5,)}
    assert all(v.dtype == np.float64 for v in params.values())
    assert not params["b"].any()
    again = catdsl.load(TINY).params  # course_init is deterministic
    assert all(np.array_equal(params[k], again[k]) for k in params)


def test_literal_params() -> None:
    assert catdsl.load(ADAM).params["theta"].tolist() == [1.0, -1.0]


def test_params_are_shared_and_assignable() -> None:
    program = catdsl.load(TINY)
    before = program["predict"](1)
    program.params["b"] = np.array([0.0, 0.0, 0.0, 0.0, 3.0])
    after = program["predict"](1)
    assert after.argmax() == 4
    assert np.allclose(after, by_hand_predict(program.params, 1))
    assert not np.allclose(before, after)


def test_load_params(tmp_path) -> None:
    program = catdsl.load(TINY)
    np.savez(tmp_path / "p.npz", b=np.arange(5.0))
    program.load_params(str(tmp_path / "p.npz"))
    assert program.params["b"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_load_params_is_all_or_nothing(tmp_path) -> None:
    program = catdsl.load(TINY)
    b = program.params["b"].copy()
    np.savez(tmp_path / "p.npz", b=np.ones(5), W=np.ones(3))
    with pytest.raises(CatError, match="has shape"):
        program.load_params(str(tmp_path / "p.npz"))
    assert np.array_equal(program.params["b"], b)


def test_float32_programs_compute_in_float32() -> None:
    program = catdsl.load(TINY, dtype="float32")
    assert program.params["E"].dtype == np.float32
    assert program["predict"](1).dtype == np.float32
    assert np.allclose(program["predict"](1), catdsl.load(TINY)["predict"](1), atol=1e-6)


# ============================================================== drawing
def test_morphism_repr_svg_has_the_labels(tiny) -> None:
    svg = tiny["predict"]._repr_svg_()
    assert "<svg" in svg
    for label in ("predict", "Embedding", "LinearToLogits", "Softmax", "TokenId", "Distribution"):
        assert label in svg


def test_program_repr_svg_has_every_definition(card) -> None:
    svg = card._repr_svg_()
    assert "<svg" in svg
    for name in ("pipeline", "Softmax", "CrossEntropy", "FusedCrossEntropy"):
        assert name in svg


def test_program_repr_svg_without_graphviz_is_none(card, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert card._repr_svg_() is None


def test_morphism_repr_svg_without_graphviz_is_none(card, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert card["pipeline"]._repr_svg_() is None


# ============================================================== reverse derivative
def test_vjp_of_the_card_is_softmax_minus_one_hot(card) -> None:
    z = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    grads = card["pipeline"].vjp(z, 1.0, target=2)
    (dz,) = grads["inputs"]
    assert np.allclose(dz, softmax(z) - np.eye(5)[2], atol=1e-12)
    doubled = card["pipeline"].vjp(z, 2.0, target=2)["inputs"][0]
    assert np.allclose(doubled, 2 * dz)


def test_vjp_gives_param_cotangents(tiny) -> None:
    loss = tiny["loss"]
    grads = loss.vjp((1, 2), 1.0)
    assert grads["inputs"] == (None, None)  # indices have no cotangent
    assert {k: grads[k].shape for k in ("E", "W", "b")} == {"E": (5, 4), "W": (4, 5), "b": (5,)}
    assert not grads["E"][[0, 2, 3, 4]].any()  # only the looked-up row moves
    # against a central difference on one coordinate of W
    program = catdsl.load(TINY)
    eps = 1e-6
    w = program.params["W"]
    saved = w[1, 2]
    w[1, 2] = saved + eps
    up = float(program["loss"]((1, 2)))
    w[1, 2] = saved - eps
    down = float(program["loss"]((1, 2)))
    w[1, 2] = saved
    assert grads["W"][1, 2] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_vjp_of_the_chain_rule_node() -> None:
    product = catdsl.load(CHAIN)["product"]
    grads = product.vjp((2.0, 3.0), 1.0)
    assert [float(g) for g in grads["inputs"]] == [3.0, 2.0]


# ============================================================== commands as methods
def test_train_check_laws_and_gradcheck_methods(tiny) -> None:
    result = catdsl.load(TINY).train("step", steps=10)
    assert result.steps == 10
    assert len(result.losses) == 10
    assert result.losses[-1] < result.losses[0]
    assert set(result.params) == {"E", "W", "b"}
    reports = tiny.check_laws(samples=4)
    assert reports[0].name == "composed_is_direct"
    assert all(r.holds for r in reports)
    assert tiny.gradcheck("loss").ok
