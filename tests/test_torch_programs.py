"""The course programs against PyTorch's documented semantics, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PROGRAMS, TINY

import catdsl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

PAIRS = [(1, 2), (2, 3), (3, 4), (4, 1), (1, 2), (2, 3), (3, 4)]


def torch_mean_loss(E, W, b):
    x = torch.tensor([p[0] for p in PAIRS])
    y = torch.tensor([p[1] for p in PAIRS])
    probs = torch.softmax(E[x] @ W + b, dim=-1)
    return torch.nn.functional.nll_loss(torch.log(probs), y)


def torch_tensors(program):
    return [
        torch.tensor(program.params[n], dtype=torch.float64, requires_grad=True)
        for n in ("E", "W", "b")
    ]


def test_prediction_and_loss_match_torch() -> None:
    program = catdsl.load(TINY)
    E, W, b = torch_tensors(program)
    expected = torch.softmax(E[1] @ W + b, dim=-1).detach().numpy()
    np.testing.assert_allclose(program["predict"](1), expected, rtol=0, atol=1e-15)
    assert program["loss_before"]() == pytest.approx(torch_mean_loss(E, W, b).item(), abs=1e-12)


def test_card_matches_torch_cross_entropy() -> None:
    program = catdsl.load(str(PROGRAMS / "card.cat"))
    logits = np.array([0.3, -1.2, 2.0, 0.0, 0.7])
    expected = torch.nn.functional.cross_entropy(
        torch.tensor(logits)[None], torch.tensor([2])
    ).item()
    assert program["pipeline"](logits, target=2) == pytest.approx(expected, abs=1e-12)
    assert program["FusedCrossEntropy"](logits, target=2) == pytest.approx(expected, abs=1e-12)


def _catdsl_training(optimizer: str) -> dict:
    text = (PROGRAMS / "tiny_ml.cat").read_text()
    text += {
        "sgd": "\nlet sgd20 = TrainStep(loss, examples, lr = 0.5) ^ 20\n",
        "adam": "\nlet adam20 = Adam(loss, examples, lr = 0.05) ^ 20\n"
        "let adam_run = AdamInit(loss) >> adam20 >> AdamParams(loss)\n",
    }[optimizer]
    program = catdsl.loads(text, str(PROGRAMS / "tiny_ml_torch.cat"))
    if optimizer == "sgd":
        return program.train("sgd20").params
    return program["adam_run"]()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_twenty_steps_match_torch_optim(optimizer: str) -> None:
    program = catdsl.load(TINY)
    params = torch_tensors(program)
    opt = (
        torch.optim.SGD(params, lr=0.5)
        if optimizer == "sgd"
        else torch.optim.Adam(params, lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    )
    for _ in range(20):
        opt.zero_grad()
        torch_mean_loss(*params).backward()
        opt.step()
    ours = _catdsl_training(optimizer)
    for name, tensor in zip(("E", "W", "b"), params, strict=True):
        np.testing.assert_allclose(ours[name], tensor.detach().numpy(), rtol=0, atol=1e-9)
