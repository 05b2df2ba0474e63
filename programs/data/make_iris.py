"""Make `iris_train.npz` and `iris_validation.npz` from `iris.csv`, the iris measurements.

The data: R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of
Eugenics 7 (1936), as the UCI Machine Learning Repository distributes it ("Iris", 1988,
https://archive.ics.uci.edu/dataset/53/iris; UCI notes that its rows 35 and 38 differ from
the paper). 150 flowers, 50 of each species (setosa, versicolor, virginica), four lengths in cm.

The split is seeded and stratified: of each species, 10 flowers drawn by
`np.random.default_rng(0)` go to the validation set and 40 to the training set. Each file holds
`measurements` (float64, one row of four per flower) and `species` (int64, 0, 1 or 2), in that
order, as a `List[Measurements * Species]` data point reads them. Run from the repository root:
`python programs/data/make_iris.py`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SPECIES = ("setosa", "versicolor", "virginica")
PER_SPECIES_VALIDATION = 10


def read_iris(path: Path = HERE / "iris.csv") -> tuple[np.ndarray, np.ndarray]:
    """The measurements and the species numbers of the 150 flowers, in the file's order."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    measurements = np.array(
        [
            [float(r[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")]
            for r in rows
        ]
    )
    species = np.array([SPECIES.index(r["species"]) for r in rows], dtype=np.int64)
    return measurements, species


def split(species: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The row numbers of the training and validation flowers (each in increasing order)."""
    rng = np.random.default_rng(seed)
    validation = []
    for label in range(len(SPECIES)):
        rows = np.flatnonzero(species == label)
        validation.extend(rng.permutation(rows)[:PER_SPECIES_VALIDATION].tolist())
    chosen = np.zeros(len(species), dtype=bool)
    chosen[validation] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)


def main() -> None:
    measurements, species = read_iris()
    train, validation = split(species)
    for name, rows in (("iris_train.npz", train), ("iris_validation.npz", validation)):
        np.savez(HERE / name, measurements=measurements[rows], species=species[rows])


if __name__ == "__main__":
    main()
