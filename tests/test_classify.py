"""programs/classify.cat: the iris data it ships, its training, and the same model in PyTorch."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import PROGRAMS

import catdsl
from catdsl.cli import main
from catdsl.frontend.training_run import TrainResult

CLASSIFY = str(PROGRAMS / "classify.cat")
DATA = PROGRAMS / "data"
EPOCHS = 60
BATCH, SEED, LR = 16, 0, 0.01


def _make_iris():
    spec = importlib.util.spec_from_file_location("make_iris", DATA / "make_iris.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(DATA / name) as archive:
        assert archive.files == ["measurements", "species"]
        return archive["measurements"], archive["species"]


def test_the_shipped_split_is_what_the_script_makes_from_the_csv():
    make_iris = _make_iris()
    measurements, species = make_iris.read_iris()
    assert measurements.shape == (150, 4) and np.bincount(species).tolist() == [50, 50, 50]
    assert measurements[0].tolist() == [5.1, 3.5, 1.4, 0.2]  # the first setosa of the paper
    assert measurements[50].tolist() == [7.0, 3.2, 4.7, 1.4]  # the first versicolor
    train, validation = make_iris.split(species)
    assert len(train) == 120 and len(validation) == 30
    assert not set(train) & set(validation)
    for name, rows in (("iris_train.npz", train), ("iris_validation.npz", validation)):
        x, y = _arrays(name)
        assert np.array_equal(x, measurements[rows]) and np.array_equal(y, species[rows])
        assert np.bincount(y).tolist() == [len(rows) // 3] * 3


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.load(CLASSIFY)


@pytest.fixture(scope="module")
def trained() -> TrainResult:
    """`fit` for 60 epochs from the initial params, on a program of its own."""
    return catdsl.load(CLASSIFY).train("fit", epochs=EPOCHS)


def _accuracy(program: catdsl.Program, params: dict) -> float:
    """The fraction of validation flowers whose highest score is their species, by numpy."""
    x, y = _arrays("iris_validation.npz")
    saved = dict(program.params)
    program.params.update(params)
    try:
        scores = program["scores"](x)
    finally:
        program.params.update(saved)
    return float(np.mean(np.argmax(scores, axis=1) == y))


def test_fit_learns_the_species(program, trained):
    assert trained.minibatch and int(trained.state["step"]) == EPOCHS * 8  # 120 / 16 → 8
    assert trained.losses[0] > 0.9 > 0.1 > trained.final_loss
    assert list(trained.metrics) == ["val_accuracy", "val_loss"]  # the program's val_ metrics
    assert trained.metrics["val_loss"][-1] < trained.metrics["val_loss"][0] / 5
    accuracy = trained.metrics["val_accuracy"][-1]
    assert accuracy == _accuracy(program, trained.params) >= 0.9
    assert program["val_accuracy"]() == _accuracy(program, program.params) < 0.5  # untrained


def test_train_and_eval_from_the_command_line(program, trained, tmp_path, capsys):
    checkpoint, best = tmp_path / "fit.npz", tmp_path / "best.npz"
    code = main(
        [
            "train", CLASSIFY, "fit", "--epochs", str(EPOCHS), "--checkpoint", str(checkpoint),
            "--keep-best", str(best), "--best", "max",
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    accuracy, loss = trained.metrics["val_accuracy"], trained.metrics["val_loss"]
    assert out.splitlines()[-3] == (
        f"epoch {EPOCHS:>6}  loss {trained.losses[-1]:.6g}  val_accuracy {accuracy[-1]:.6g}"
        f"  val_loss {loss[-1]:.6g}"
    )
    assert out.splitlines()[-2] == f"after {EPOCHS} epochs: loss {trained.final_loss:.6g}"
    first_best = accuracy.index(max(accuracy)) + 1  # the first epoch with the best accuracy
    assert out.splitlines()[-1] == (
        f"best val_accuracy {max(accuracy):.6g} at epoch {first_best}: params written to {best}"
    )
    assert main(["eval", CLASSIFY, "val_accuracy", "--params", str(checkpoint)]) == 0
    out, _ = capsys.readouterr()
    assert out == f"val_accuracy : Unit -> Real\n{accuracy[-1]:.6g}\n"
    assert main(["eval", CLASSIFY, "val_accuracy", "--params", str(best)]) == 0
    out, _ = capsys.readouterr()
    assert out == f"val_accuracy : Unit -> Real\n{max(accuracy):.6g}\n"


try:
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only contend for the machine's cores
except ImportError:  # the tests that compare with PyTorch are skipped
    torch = None


def _torch_model(initial: dict[str, np.ndarray] | None):
    """The MLP of classify.cat: Linear(4, 16), tanh, Linear(16, 3), in float64."""
    assert torch is not None
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    ).double()
    if initial is not None:  # nn.Linear keeps W transposed: (out, in)
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor(initial["W1"].T))
            model[0].bias.copy_(torch.tensor(initial["b1"]))
            model[2].weight.copy_(torch.tensor(initial["W2"].T))
            model[2].bias.copy_(torch.tensor(initial["b2"]))
    return model


def _torch_training(model, batches) -> float:
    """Adam over the given minibatches of each epoch; the validation accuracy after."""
    x, y = (torch.tensor(a) for a in _arrays("iris_train.npz"))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        for rows in batches(epoch):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
    vx, vy = (torch.tensor(a) for a in _arrays("iris_validation.npz"))
    with torch.no_grad():
        return float((model(vx).argmax(dim=1) == vy).double().mean())


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
def test_the_same_model_in_torch_on_the_same_batches_ends_with_the_same_params(program, trained):
    """Same initial params, same shuffle (catdsl's order: `default_rng([seed, epoch])`):
    the params agree to rounding, so the validation accuracy is the same, exactly."""

    def batches(epoch):
        order = np.random.default_rng([SEED, epoch]).permutation(120)
        return [torch.tensor(order[i : i + BATCH]) for i in range(0, 120, BATCH)]

    model = _torch_model(program.params)
    accuracy = _torch_training(model, batches)
    np.testing.assert_allclose(
        model[0].weight.detach().numpy().T, trained.params["W1"], rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        model[2].bias.detach().numpy(), trained.params["b2"], rtol=0, atol=1e-9
    )
    assert accuracy == trained.metrics["val_accuracy"][-1]


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
def test_the_model_as_torch_users_write_it_reaches_the_same_accuracy(program, trained):
    """PyTorch's own initialisation and shuffling (`DataLoader(shuffle=True)`, seeded): a
    different run of the same model and optimizer; its validation accuracy is within 0.1
    (three of the 30 flowers) of catdsl's."""
    torch.manual_seed(SEED)
    model = _torch_model(None)
    dataset = torch.utils.data.TensorDataset(torch.arange(120))
    generator = torch.Generator().manual_seed(SEED)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=BATCH, shuffle=True, generator=generator
    )

    def batches(epoch):
        return [rows for (rows,) in loader]

    accuracy = _torch_training(model, batches)
    assert abs(accuracy - trained.metrics["val_accuracy"][-1]) <= 0.1 + 1e-12
    assert accuracy >= 0.9


def test_the_data_files_are_small():
    sizes = [path.stat().st_size for path in DATA.iterdir()]
    assert sum(sizes) < 16_000
    assert Path(CLASSIFY).read_text().count('load("data/') == 2
