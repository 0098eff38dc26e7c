"""Benchmark: the V50 model against the physics fit (v2) it starts from and the naive
prediction, trained and evaluated in one run on the mismatch simulation.

Uses the data and the learned priors of benchmarks/physics_fit.py (same --workdir, cached):
fits every train and held-out planet with v2, cross-fits the train planets' physics
predictions (the spectral prior never sees a planet's own label), trains the model with
the workflow's default options (config/config.yaml) and prints: score, RMSE / depth-only
floor and both floors of FGS1, coverage 68 / 95 %, train minutes, predict seconds per planet
(physics_fit.summarise, so the two tables read alike), then V50 with the planets its domain
test puts out (spectramind.models.domain) given the physics fit instead (V50 + domain), and
why each is out. Both predictors' validation predictions (the train planets' cross-fitted
physics; V50's out-of-fold planets) and test predictions are kept in --workdir/predictions/
for benchmarks/sigma_calibration.py.

    python benchmarks/model.py --workdir /tmp/physics_fit [--n-train 60 --n-test 200]

The data, the learned priors and the fits are cached in --workdir; --prepare-only stops
there (build once, then iterate on the model).
"""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import logging
import os
import pickle

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from physics_fit import (  # noqa: I001 (a sibling script, not a package)
    REPO,
    benchmark_arguments,
    learn_priors,
    prepare_data,
    simulation_config,
    summarise,
    truth_table,
    workflow_options,
)

from spectramind import io
from spectramind.core.netcdf import write_netcdf
from spectramind.evaluation.metrics import naive_reference
from spectramind.fit import FitPriors, fit_planet
from spectramind.fit.collect import predictions_dataset
from spectramind.fit.cross_fit import train_physics_predictions
from spectramind.guards import GuardOptions
from spectramind.models.dataset import planet_samples
from spectramind.models.domain import out_of_domain
from spectramind.models.training import (
    TrainingOptions,
    V50Ensemble,
    out_of_fold_predictions,
    predict,
    train_ensemble,
)
from spectramind.models.v50 import ModelOptions, V50Model
from spectramind.simulate import SimulationConfig

_PRIORS: FitPriors | None = None


def _init(priors: FitPriors) -> None:
    global _PRIORS
    _PRIORS = priors


def _fit(task: tuple[Path, str, int]) -> None:
    workdir, split, planet_id = task
    out = workdir / "fits_v2" / split / f"{planet_id}.nc"
    if out.exists():
        return
    star = io.read_star_info(workdir / "raw", split).loc[planet_id]
    with xr.open_dataset(workdir / "lightcurves" / split / f"{planet_id}.nc") as lc:
        write_netcdf(fit_planet(lc.load(), star, workflow_options()[2], _PRIORS), out)


def cached_priors(config: SimulationConfig, workdir: Path, n_labels: int, jobs: int) -> FitPriors:
    """learn_priors, kept in the workdir (learning them reads every train light curve)."""
    path = workdir / f"priors_{n_labels}_labels.pkl"
    if not path.exists():
        path.write_bytes(pickle.dumps(learn_priors(config, workdir, n_labels, jobs)))
    return pickle.loads(path.read_bytes())


def main() -> None:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--prepare-only", action="store_true", help="stop after the fits")
    parser.add_argument("--ensemble-folds", type=int, help="override training.ensemble_folds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # epoch lines
    config = simulation_config(args)
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_data(config, workdir, args.jobs)
    priors = cached_priors(config, workdir, args.n_labels, args.jobs)
    labels = {split: truth_table(workdir, split, "depth") for split in ("train", "test")}
    tasks = [(workdir, split, pid) for split in labels for pid in labels[split].index]
    for split in labels:
        (workdir / "fits_v2" / split).mkdir(parents=True, exist_ok=True)
    with Pool(args.jobs, initializer=_init, initargs=(priors,)) as pool:
        pool.map(_fit, tasks)
    if args.prepare_only:
        return
    fits = {
        split: [xr.load_dataset(workdir / f"fits_v2/{split}/{p}.nc") for p in labels[split].index]
        for split in labels
    }
    settings = yaml.safe_load((REPO / "config/config.yaml").read_text())
    model_options = ModelOptions.from_config(settings.get("model"))
    training = settings.get("training") or {}
    if args.ensemble_folds:
        training = {**training, "ensemble_folds": args.ensemble_folds}
    options = TrainingOptions.from_config(training)
    wavelength = io.read_wavelengths(workdir / "raw")
    train_truth = labels["train"].to_numpy()
    physics_mu, physics_sigma = train_physics_predictions(
        fits["train"],
        train_truth,
        wavelength,
        workflow_options()[2],
        options.cross_fit_folds,
        args.seed,
        GuardOptions().prior_conflict_p_value,  # as the workflow's default guards
    )

    def samples(split: str, mu: np.ndarray, sigma: np.ndarray) -> list:
        ids = labels[split].index
        paths = [workdir / "lightcurves" / split / f"{pid}.nc" for pid in ids]
        return planet_samples(ids, paths, fits[split], io.read_star_info(workdir / "raw", split),
                              mu, sigma, model_options.steps, labels[split].to_numpy())  # fmt: skip

    torch.set_num_threads(args.jobs)
    naive = naive_reference(train_truth)
    start = time.time()
    train_samples = samples("train", physics_mu, physics_sigma)
    members = train_ensemble(train_samples, wavelength, naive, model_options, options,
                             args.seed)  # fmt: skip
    train_minutes = (time.time() - start) / 60
    test_mu = np.array([f["depth"].values for f in fits["test"]])
    test_sigma = np.array([f["sigma"].values for f in fits["test"]])
    test_samples = samples("test", test_mu, test_sigma)
    models = []
    for member in members:
        models.append(V50Model(model_options, wavelength))
        models[-1].load_state_dict(member.state_dict)
    model = models[0] if len(models) == 1 else V50Ensemble(models)
    start = time.time()
    mu, sigma = predict(model, test_samples)
    predict_seconds = (time.time() - start) / len(test_samples)
    truth = labels["test"].to_numpy()
    val_ids, val_mu, val_sigma = out_of_fold_predictions(members, train_samples, model_options,
                                                         wavelength)  # fmt: skip
    train_ids = list(labels["train"].index)
    keep = {
        "physics_validation": (train_ids, physics_mu, physics_sigma, train_truth),
        "physics_test": (list(labels["test"].index), test_mu, test_sigma, truth),
        "v50_validation": (val_ids, val_mu.numpy(), val_sigma.numpy(),
                           labels["train"].loc[val_ids].to_numpy()),
        "v50_test": (list(labels["test"].index), mu.numpy(), sigma.numpy(), truth),
    }  # fmt: skip
    for name, (ids, m, s, t) in keep.items():
        path = workdir / "predictions" / f"{name}.nc"
        write_netcdf(predictions_dataset(ids, m, s, name, t), path)
    floors = tuple(
        truth_table(workdir, "test", key).loc[labels["test"].index].to_numpy()
        for key in ("noise_floor", "noise_floor_marginalised")
    )
    naive_mu, naive_sigma = np.full_like(truth, naive[0]), np.full_like(truth, naive[1])
    v50 = summarise("V50", mu.numpy(), sigma.numpy(), None, truth, floors, naive)
    v50.update(train_minutes=train_minutes, predict_s_per_planet=predict_seconds,
               best_epoch="/".join(str(m.best_epoch) for m in members))  # fmt: skip
    verdicts = out_of_domain(test_samples, mu.numpy(), sigma.numpy(), members[0].domain)
    out = np.array([v.out for v in verdicts])[:, None]
    guarded_mu = np.where(out, test_mu, mu.numpy())
    guarded_sigma = np.where(out, test_sigma, sigma.numpy())
    guarded = summarise("V50 + domain", guarded_mu, guarded_sigma, None, truth, floors, naive)
    rows = [
        summarise("naive", naive_mu, naive_sigma, None, truth, floors, naive),
        summarise("physics v2", test_mu, test_sigma, None, truth, floors, naive),
        v50,
        guarded,
    ]
    pd.set_option("display.width", 200)
    print(f"\n{len(truth)} held-out mismatch planets (seed {args.seed}), model trained on "
          f"{len(train_truth)} train planets")  # fmt: skip
    print(pd.DataFrame(rows).set_index("predictor").round(4).T.to_string())
    print(f"\nout of domain: {int(out.sum())} of {len(verdicts)} test planets")
    for verdict in verdicts:
        if verdict.out:
            print(f"  {verdict.planet_id}: {verdict.reason}")


if __name__ == "__main__":
    main()
