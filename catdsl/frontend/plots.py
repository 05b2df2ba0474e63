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
    fmt = plot_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    ax.plot(range(len(losses)), losses, color="#3b6ea5", linewidth=1.8)
    ax.set_xlabel("step")
    ax.set_ylabel("mean loss")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if losses and min(losses) > 0 and max(losses) / min(losses) > 50:
        ax.set_yscale("log")
    fig.tight_layout()
    try:
        with atomic_output(target, what="plot") as file:
            fig.savefig(file, format=fmt)
    finally:
        plt.close(fig)
