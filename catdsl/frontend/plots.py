"""Loss curves with matplotlib (headless), written atomically (`files.atomic_output`)."""

from __future__ import annotations

from pathlib import Path

from catdsl.errors import CatRuntimeError
from catdsl.files import atomic_output

PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str) -> str:
    """The format a loss curve is written in, from the file's suffix; refused before training
    starts when it is not one matplotlib writes here."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise CatRuntimeError(
            "R0702",
            f"cannot plot to `{path}`: " + (f"unknown format `.{fmt}`" if fmt else "no suffix"),
            help="use one of " + ", ".join(f"`.{f}`" for f in PLOT_FORMATS),
        )
    return fmt


def plot_losses(losses: list[float], path: str, title: str = "training loss") -> None:
    """Draw the mean loss per step; the format follows the file's suffix."""
    _plot(list(range(len(losses))), losses, {}, "step", "mean loss", path, title)


def plot_epochs(
    losses: list[float],
    metrics: dict[str, list[float]],
    resumed_from: int,
    path: str,
    title: str = "training loss",
) -> None:
    """Draw each epoch's training loss (epochs counted from 1) and, on a second axis, the
    validation metrics after each epoch this run made (from `resumed_from` on)."""
    epochs = list(range(1, len(losses) + 1))
    shown = {name: (epochs[resumed_from:], values) for name, values in metrics.items()}
    _plot(epochs, losses, shown, "epoch", "training loss", path, title)


METRIC_COLOURS = ("#c0504d", "#4f8a3c", "#8064a2", "#d08a2c")


def _plot(
    xs: list[int],
    losses: list[float],
    metrics: dict[str, tuple[list[int], list[float]]],
    xlabel: str,
    ylabel: str,
    path: str,
    title: str,
) -> None:
    fmt = plot_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    ax.plot(xs, losses, color="#3b6ea5", linewidth=1.8, label=ylabel)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if losses and min(losses) > 0 and max(losses) / min(losses) > 50:
        ax.set_yscale("log")
    if metrics:
        other = ax.twinx()
        colours = METRIC_COLOURS * (len(metrics) // len(METRIC_COLOURS) + 1)
        for (name, (at, values)), colour in zip(metrics.items(), colours, strict=False):
            other.plot(at, values, color=colour, linewidth=1.4, linestyle="--", label=name)
        other.set_ylabel("validation")
        lines = ax.get_lines() + other.get_lines()
        ax.legend(lines, [str(line.get_label()) for line in lines], fontsize=8, loc="best")
    fig.tight_layout()
    try:
        with atomic_output(target, what="plot") as file:
            fig.savefig(file, format=fmt)
    finally:
        plt.close(fig)
