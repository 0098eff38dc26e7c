"""Benchmark: how much of the physics fit's error the mismatched systematics cause.

Simulates the held-out planets of benchmarks/model.py's data set again, the same planets
with the same seed, but with every systematic from the fit's own model family (no
mismatch switches), fits them with the same learned priors, and prints the fit's error on
both side by side. If the errors are alike, the fit's error is the per-planet noise of the
data, not mismatched systematics, and no per-planet correction can take much off it.

    python benchmarks/model.py --workdir /tmp/model_bench --n-train 1000 --n-labels 100
    python benchmarks/matched_systematics.py --workdir /tmp/model_bench --n-train 1000 \\
        --n-labels 100 --matched-workdir /tmp/matched
"""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import dataclasses
import pickle
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import _fit, _init  # noqa: I001 (sibling scripts, not a package)
from physics_fit import (
    benchmark_arguments,
    prepare_planet,
    simulation_config,
    summarise,
    truth_table,
)

from spectramind.simulate import write_top_level
from spectramind.simulate.population import planet_ids


def fitted_test_planets(workdir: Path, naive: tuple[float, float]) -> dict:
    """summarise() of the physics fit of every held-out planet in ``workdir``, plus the FGS1
    error rms in ppm."""
    labels = truth_table(workdir, "test", "depth")
    fits = [xr.load_dataset(workdir / f"fits_v2/test/{p}.nc") for p in labels.index]
    mu, sigma = (np.array([f[name].values for f in fits]) for name in ("depth", "sigma"))
    truth = labels.to_numpy()
    floors = tuple(truth_table(workdir, "test", key).loc[labels.index].to_numpy()
                   for key in ("noise_floor", "noise_floor_marginalised"))  # fmt: skip
    row = summarise(workdir.name, mu, sigma, None, truth, floors, naive)
    row["fgs1 rms error (ppm)"] = float(np.sqrt(np.mean((mu[:, 0] - truth[:, 0]) ** 2)) * 1e6)
    return row


def main() -> None:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--matched-workdir", type=Path, default=Path("/tmp/matched"))
    args = parser.parse_args()
    mismatch = simulation_config(args)
    matched = dataclasses.replace(
        mismatch,
        **{
            f.name: False for f in dataclasses.fields(mismatch) if f.name.startswith("mismatch_")
        },  # fmt: skip
    )
    out = args.matched_workdir
    if not (out / "raw" / "train.csv").exists():
        write_top_level(matched, out / "raw", out / "truth")
    test_ids = planet_ids(matched)["test"]
    assert test_ids == planet_ids(mismatch)["test"], "the two simulations drew other planets"
    priors = pickle.loads((args.workdir / f"priors_{args.n_labels}_labels.pkl").read_bytes())
    (out / "fits_v2" / "test").mkdir(parents=True, exist_ok=True)
    with Pool(args.jobs) as pool:
        pool.map(prepare_planet, [(matched, out, "test", p) for p in test_ids])
    with Pool(args.jobs, initializer=_init, initargs=(priors,)) as pool:
        pool.map(_fit, [(out, "test", p) for p in test_ids])
    train = truth_table(args.workdir, "train", "depth").to_numpy()
    naive = (float(train.mean()), float(train.std()))
    rows = [fitted_test_planets(args.workdir, naive), fitted_test_planets(out, naive)]
    print(f"\nPhysics fit of the same {len(test_ids)} held-out planets: systematics of other "
          "families (first column), of the fit's own (second); priors from the first")  # fmt: skip
    table = pd.DataFrame(rows).set_index("predictor").drop(columns="fit_s_per_planet")
    print(table.T.round(4))


if __name__ == "__main__":
    main()
