"""programs/transformer/course.cat and wide.cat: the course's tiny Transformer fixture, example
07 and the three training runs on one training state (params, learning rate, step count),
steps that update exactly the params they list, and the block against PyTorch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PROGRAMS
from test_reference import check_definition

import catdsl
from catdsl.cli import main

COURSE = PROGRAMS / "transformer" / "course.cat"
WIDE = PROGRAMS / "transformer" / "wide.cat"
HEAD_PARAMS = ("Wq", "bq", "Wk", "bk", "Wv", "bv")
ALL = (*HEAD_PARAMS, "Wo", "bo", "g1", "s1", "W1", "b1", "W2", "b2", "g2", "s2", "Wr", "br")


@pytest.fixture(scope="module")
def course() -> catdsl.Program:
    return catdsl.load(str(COURSE))


def with_lines(path, *lines: str) -> catdsl.Program:
    """The program with extra definitions appended (read relative to the same folder)."""
    return catdsl.loads(path.read_text() + "\n" + "\n".join(lines) + "\n", str(path))


def run_json(capsys, path, name: str) -> object:
    assert main(["run", str(path), name, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["value"]


def test_the_fixture_forward_is_two_by_three_and_finite(capsys):
    logits = np.array(run_json(capsys, COURSE, "logits"))
    assert logits.shape == (2, 3) and np.isfinite(logits).all()
    # d = 2 LayerNorm sends each row to about (±1, ∓1); the readout then gives [a, b, (a − b)/2]
    np.testing.assert_allclose(logits[:, 2], (logits[:, 0] - logits[:, 1]) / 2, rtol=1e-12)


def test_example_07_runs_readout_ffn_block_on_one_state(capsys):
    values = {
        name: run_json(capsys, COURSE, f"ex07_{name}")
        for name in (
            "readout_before",
            "readout_after",
            "ffn_before",
            "ffn_after",
            "block_before",
            "block_after",
            "step_count",
        )
    }
    assert values["step_count"] == 3
    assert values["readout_after"] < values["readout_before"]
    assert values["ffn_after"] < values["ffn_before"]
    assert values["block_after"] < values["block_before"]
    # the FFN step touches only the FFN, whose effect through a d = 2 LayerNorm is tiny
    assert values["block_before"] == pytest.approx(values["readout_after"], abs=1e-6)


@pytest.mark.parametrize(
    ("run", "steps", "lr"), [("readout", 40, 0.5), ("ffn", 60, 0.2), ("block", 40, 0.2)]
)
def test_the_training_runs_descend_and_count_their_steps(course, run, steps, lr):
    assert course[f"{run}_after"]() < course[f"{run}_before"]()
    program = with_lines(
        COURSE,
        f"let state_after = StateInit(block_loss, lr = {lr}) >> {run}_step ^ {steps}",
    )
    state = program["state_after"]()
    assert int(state["step"]) == steps and float(state["lr"]) == lr


def _one_step(path, step: str, lr: float = 0.2) -> tuple[dict, dict]:
    program = with_lines(path, f"let one = StateInit(block_loss, lr = {lr}) >> {step}")
    state = program["one"]()
    return program.params, state


@pytest.mark.parametrize(
    ("step", "listed"),
    [
        ("readout_step", {"Wr", "br"}),
        ("ffn_step", {"W1", "b1", "W2", "b2"}),
        ("block_step", set(ALL)),
    ],
)
def test_a_step_updates_exactly_the_params_it_lists(step, listed):
    before, state = _one_step(COURSE, step)
    assert int(state["step"]) == 1 and float(state["lr"]) == 0.2
    after = state["params"]
    assert set(after) == set(ALL)
    for name in ALL:
        if name not in listed:
            assert after[name].tobytes() == before[name].tobytes(), name
    changed = {n for n in ALL if not np.array_equal(after[n], before[n])}
    assert {"Wr", "br"} <= changed or step != "readout_step"
    if step == "block_step":  # the course's one-step check (names changed params by family)
        assert {"Wo", "g1", "s2", "Wq", "Wk", "Wv"} <= changed


def test_the_wide_fixture_moves_the_inner_block_where_d_2_barely_does():
    """At d = 2 LayerNorm flattens every row to about (±1, ∓1), so one block step moves the
    attention params by ~1e-12; at d = 4 they move by more than 1e-6. (The key bias gets no
    gradient at all: it adds the same amount to every score of a row, which softmax ignores.)"""
    inner = ("Wq", "bq", "Wk", "Wv", "bv", "Wo", "bo")

    def changes(path):
        before, state = _one_step(path, "block_step")
        return {n: np.abs(state["params"][n] - before[n]).max() for n in ALL}

    narrow, wide = changes(COURSE), changes(WIDE)
    assert all(narrow[n] < 1e-10 for n in inner)
    assert all(wide[n] > 1e-6 for n in ALL if n != "bk")
    assert wide["bk"] < 1e-20


def test_the_programs_agree_with_the_reference_interpreter(course):
    for name in ("logits", "ex07_step_count", "ex07_block_after", "forward", "pre_norm_block"):
        check_definition(course, name)


# ------------------------------------------------------------------ diagnostics


def _diagnostics(text: str) -> list[tuple[str, str]]:
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(COURSE.read_text() + "\n" + text + "\n", str(COURSE))
    return [(d.code, d.message) for d in info.value.diagnostics]


def test_only_must_name_params_of_the_loss():
    ((code, message),) = _diagnostics("let bad = StateStep(ffn_loss, ffn_examples, only = [Wr])")
    assert code == "E0353" and "`Wr`, which is not a param of `ffn_loss`" in message
    ((code, _),) = _diagnostics("let bad = StateStep(block_loss, block_examples, only = Wr)")
    assert code == "E0353"


def test_the_model_must_hold_every_param_of_the_loss():
    text = "let bad = StateStep(block_loss, block_examples, model = ffn_loss)"
    ((code, message),) = _diagnostics(text)
    assert code == "E0352" and "`ffn_loss` has no param `Wq`" in message


def test_the_state_owns_the_rate_so_a_step_takes_none():
    ((code, message),) = _diagnostics("let bad = StateStep(block_loss, block_examples, lr = 0.1)")
    assert code == "E0307" and "`lr`" in message


def test_a_state_starts_from_its_init(tmp_path):
    with pytest.raises(catdsl.CatError) as info:
        catdsl.load(str(COURSE)).train("block_step", steps=1)
    assert info.value.diagnostics[0].code == "R0605"
    assert "StateInit" in info.value.diagnostics[0].message


# ------------------------------------------------------------------ PyTorch


@pytest.mark.torch
@pytest.mark.parametrize(("name", "norm_first"), [("block", False), ("pre_norm_block", True)])
def test_the_block_agrees_with_torch_encoder_layer(name, norm_first):
    torch = pytest.importorskip("torch")
    program = catdsl.load(str(WIDE))
    p = program.params
    layer = torch.nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=8, dropout=0.0, batch_first=True, norm_first=norm_first
    ).double()
    heads = lambda w: np.concatenate(list(w), axis=1).T  # [H, d, k] -> rows of in_proj  # noqa: E731
    with torch.no_grad():
        sa = layer.self_attn
        sa.in_proj_weight.copy_(
            torch.tensor(np.concatenate([heads(p[n]) for n in ("Wq", "Wk", "Wv")]))
        )
        sa.in_proj_bias.copy_(
            torch.tensor(np.concatenate([p[n].reshape(-1) for n in ("bq", "bk", "bv")]))
        )
        sa.out_proj.weight.copy_(torch.tensor(p["Wo"].T))
        sa.out_proj.bias.copy_(torch.tensor(p["bo"]))
        layer.linear1.weight.copy_(torch.tensor(p["W1"].T))
        layer.linear1.bias.copy_(torch.tensor(p["b1"]))
        layer.linear2.weight.copy_(torch.tensor(p["W2"].T))
        layer.linear2.bias.copy_(torch.tensor(p["b2"]))
        for norm, (g, s) in ((layer.norm1, ("g1", "s1")), (layer.norm2, ("g2", "s2"))):
            norm.weight.copy_(torch.tensor(p[g] + 0.25 * np.arange(4)))
            norm.bias.copy_(torch.tensor(p[s] - 0.1))
    program.params.update(
        g1=p["g1"] + 0.25 * np.arange(4),
        s1=p["s1"] - 0.1,
        g2=p["g2"] + 0.25 * np.arange(4),
        s2=p["s2"] - 0.1,
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4))
    allow = np.tri(5, dtype=bool)
    dy = rng.normal(size=x.shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = layer(tx, src_mask=torch.tensor(~allow))  # the module's polarity: true = blocked
    ty.backward(torch.tensor(dy))
    block = program[name]
    ours = block((x, allow))
    np.testing.assert_allclose(ours, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    grads = block.vjp((x, allow), dy)
    np.testing.assert_allclose(grads["inputs"][0], tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    g_in = sa.in_proj_weight.grad.numpy()
    gb_in = sa.in_proj_bias.grad.numpy()
    for role, (w, b) in enumerate((("Wq", "bq"), ("Wk", "bk"), ("Wv", "bv"))):
        rows = g_in[4 * role : 4 * role + 4]
        np.testing.assert_allclose(grads[w], np.stack([rows[0:2].T, rows[2:4].T]), atol=1e-10)
        np.testing.assert_allclose(
            grads[b], gb_in[4 * role : 4 * role + 4].reshape(2, 2), atol=1e-10
        )
    expected = {
        "Wo": sa.out_proj.weight.grad.numpy().T,
        "bo": sa.out_proj.bias.grad.numpy(),
        "W1": layer.linear1.weight.grad.numpy().T,
        "b1": layer.linear1.bias.grad.numpy(),
        "W2": layer.linear2.weight.grad.numpy().T,
        "b2": layer.linear2.bias.grad.numpy(),
        "g1": layer.norm1.weight.grad.numpy(),
        "s1": layer.norm1.bias.grad.numpy(),
        "g2": layer.norm2.weight.grad.numpy(),
        "s2": layer.norm2.bias.grad.numpy(),
    }
    for pname, want in expected.items():
        np.testing.assert_allclose(grads[pname], want, rtol=1e-10, atol=1e-10, err_msg=pname)


def test_an_out_of_vocabulary_target_fails_the_steps_naming_index_and_limit():
    program = with_lines(
        COURSE,
        "data oov : List[Hidden * Mask * Targets] = "
        "[[[[1, 0], [0, 1]], [[true, false], [true, true]], [0, 9]]]",
        "let bad_readout = StateInit(block_loss, lr = 0.1) >> StateStep(block_loss, oov, "
        "only = [Wr, br])",
        "let bad_block = StateInit(block_loss, lr = 0.1) >> StateStep(block_loss, oov)",
    )
    for name in ("bad_readout", "bad_block"):
        with pytest.raises(catdsl.CatError) as info:
            program[name]()
        (d,) = info.value.diagnostics
        assert d.code == "R0412" and "index 9 is out of range (limit V = 3)" in d.message


def test_a_drawn_step_shows_the_params_it_updates(tmp_path, capsys):
    out = tmp_path / "steps.dot"
    assert main(["draw", str(COURSE), "ex07_step_count", "--expand", "1", "-o", str(out)]) == 0
    text = out.read_text()
    assert "only=[Wr, br]" in text and text.count("StateStep(") == 3
