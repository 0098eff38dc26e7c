"""Benchmark: physics fit v1 (the fit before issue 9, run from a git worktree) against v2
(this checkout), side by side on the same held-out planets of the mismatch simulation.

Steps (each cached in --workdir, so a rerun only refits):
  1. simulate the mismatch configuration (power-2 limb darkening, Gaussian-process drift,
     granulation, pointing wander, variable sky: config/simulate_mismatch.yaml) at reduced
     cadence: --n-test held-out planets and --n-train training planets, calibrated and
     extracted in-process with the workflow's options (config/config.yaml);
  2. learn what v2 learns from the training split: the limb-darkening prior and the white
     light's error scale from the training light curves, the spectral prior from training
     labels (plus --n-labels more: the simulator's truth of that many training planets,
     frames not needed, as the real train.csv labels every training planet);
  3. fit every held-out planet with v1 and v2 (timed per planet, one core each);
  4. print one table: score (and score / the ideal unbiased predictor's on the same
     planets), RMSE / depth-only floor, RMSE / marginalised floor, FGS1 white-light median
     |error| / both floors, coverage 68 / 95 %, fit seconds per planet.

    python benchmarks/physics_fit.py --workdir /tmp/physics_fit [--n-test 200 --n-train 60]

Finally it times the v2 fit on --full-cadence planets simulated at full size (5 min each).
"""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # one core per fit, set before numpy loads

import argparse
import json
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from spectramind import io
from spectramind.calibrate import CalibrationOptions
from spectramind.core.netcdf import write_netcdf
from spectramind.evaluation.injection import simulated_lightcurves
from spectramind.evaluation.metrics import competition_score, naive_reference
from spectramind.extract.options import ExtractionOptions
from spectramind.fit import FitOptions, FitPriors, fit_planet
from spectramind.fit.limb_darkening import LimbDarkeningPrior
from spectramind.fit.priors import (
    learn_limb_darkening,
    learn_spectrum,
    learn_white_light_error_scale,
    limb_darkening_samples,
    white_light_pulls,
)
from spectramind.simulate import SimulationConfig, write_top_level
from spectramind.simulate.planet import true_depths
from spectramind.simulate.population import draw_planet, planet_ids

REPO = Path(__file__).resolve().parent.parent
V1_REF = "ca912ab"  # main before issue 9's fit changes
MISMATCH = {
    name: True
    for name in yaml.safe_load((REPO / "config/simulate_mismatch.yaml").read_text())["simulation"]
}


def workflow_options() -> tuple[CalibrationOptions, ExtractionOptions, FitOptions]:
    """The options the workflow runs with by default (config/config.yaml)."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return (
        CalibrationOptions.from_config(config.get("calibration")),
        ExtractionOptions.from_config(config.get("extraction")),
        FitOptions.from_config(config.get("fit")),
    )


# --- 1. data ---------------------------------------------------------------------------


def prepare_planet(task: tuple[SimulationConfig, Path, str, int]) -> None:
    """Simulate, calibrate and extract one planet; keep its light curves and truth only."""
    config, workdir, split, planet_id = task
    out = workdir / "lightcurves" / split / f"{planet_id}.nc"
    if out.exists():
        return
    truth = workdir / "truth" / "planets" / split / f"{planet_id}.json"
    calibration, extraction, _ = workflow_options()
    lightcurves = simulated_lightcurves(
        config, split, planet_id, workdir / "raw", truth, calibration, extraction
    )
    write_netcdf(lightcurves, out)


def prepare_data(config: SimulationConfig, workdir: Path, jobs: int) -> None:
    """The raw root's tables, then every planet's light curves (cached)."""
    if not (workdir / "raw" / "train.csv").exists():
        write_top_level(config, workdir / "raw", workdir / "truth")
    tasks = [
        (config, workdir, split, planet_id)
        for split, ids in planet_ids(config).items()
        for planet_id in ids
    ]
    with Pool(jobs) as pool:
        for k, _ in enumerate(pool.imap_unordered(prepare_planet, tasks), 1):
            if k % 20 == 0 or k == len(tasks):
                print(f"  prepared {k}/{len(tasks)} planets", flush=True)


def truth_table(workdir: Path, split: str, key: str) -> pd.DataFrame:
    """One truth field (depth, noise_floor, noise_floor_marginalised) of a split's planets."""
    rows = {}
    for path in sorted((workdir / "truth" / "planets" / split).glob("*.json")):
        rows[int(path.stem)] = json.loads(path.read_text())[key]
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def extra_labels(config: SimulationConfig, n_labels: int, exclude: set[int]) -> np.ndarray:
    """True spectra of ``n_labels`` further training planets (another seed), no frames."""
    other = SimulationConfig(
        **{**config.__dict__, "seed": config.seed + 1, "n_train": n_labels, "n_test": 0}
    )
    ids = [i for i in planet_ids(other)["train"] if i not in exclude]
    return np.array([true_depths(draw_planet(other, i, "train")) for i in ids])


# --- 2. priors --------------------------------------------------------------------------


def _train_planet(workdir: Path, planet_id: int) -> tuple[xr.Dataset, pd.Series]:
    stars = io.read_star_info(workdir / "raw", "train")
    with xr.open_dataset(workdir / "lightcurves" / "train" / f"{planet_id}.nc") as lc:
        return lc.load(), stars.loc[planet_id]


def _samples(task: tuple[Path, int, np.ndarray]) -> pd.DataFrame:
    workdir, planet_id, truth = task
    return limb_darkening_samples(*_train_planet(workdir, planet_id), truth, workflow_options()[2])


def _pulls(task: tuple[Path, int, np.ndarray, LimbDarkeningPrior]) -> np.ndarray:
    workdir, planet_id, truth, prior = task
    lc, star = _train_planet(workdir, planet_id)
    return white_light_pulls(lc, star, truth, prior, workflow_options()[2])


def learn_priors(config: SimulationConfig, workdir: Path, n_labels: int, jobs: int) -> FitPriors:
    """What the workflow's artifacts hold, learned from the training split as it does."""
    labels = truth_table(workdir, "train", "depth")
    tasks = [(workdir, pid, labels.loc[pid].to_numpy()) for pid in labels.index]
    with Pool(jobs) as pool:
        limb_darkening = learn_limb_darkening(pd.concat(pool.map(_samples, tasks)))
        pulls = pool.map(_pulls, [(*task, limb_darkening) for task in tasks])
    exclude = set(labels.index) | set(truth_table(workdir, "test", "depth").index)
    all_labels = np.vstack([labels.to_numpy(), extra_labels(config, n_labels, exclude)])
    wavelength = io.read_wavelengths(workdir / "raw")
    options = FitOptions()
    spectral = learn_spectrum(all_labels, wavelength, options.spectral_prior_components,
                              options.spectral_prior_feature_ppm * 1e-6)  # fmt: skip
    return FitPriors(limb_darkening, spectral, learn_white_light_error_scale(np.array(pulls)))


# --- 3. fits ----------------------------------------------------------------------------

V1_RUNNER = """
import json, sys, time, numpy as np, xarray as xr, pandas as pd
import spectramind
from spectramind.fit import FitOptions, fit_planet
tasks = json.load(open(sys.argv[1]))
out = {}
for task in tasks:
    with xr.open_dataset(task["path"]) as lc:
        lc = lc.load()
    lc["time"] = 0.5 * (lc["fgs1_time"] + lc["airs_time"])  # v1 read one averaged time axis
    start = time.process_time()
    fit = fit_planet(lc, pd.Series(task["star"]), FitOptions.from_config(task["options"]))
    out[task["id"]] = dict(depth=fit["depth"].values.tolist(), sigma=fit["sigma"].values.tolist(),
                           seconds=time.process_time() - start, module=spectramind.__file__)
json.dump(out, open(sys.argv[2], "w"))
"""


def fit_v1(workdir: Path, ids: list[int], jobs: int) -> dict[int, dict]:
    """v1 from a worktree of V1_REF, in ``jobs`` subprocesses."""
    tree = workdir / "v1_tree"
    if not tree.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), V1_REF],
            check=True,
            capture_output=True,
        )
    stars = io.read_star_info(workdir / "raw", "test")
    config = yaml.safe_load((tree / "config/config.yaml").read_text())
    tasks = [
        {
            "id": pid,
            "path": str(workdir / "lightcurves/test" / f"{pid}.nc"),
            "star": stars.loc[pid].to_dict(),
            "options": config.get("fit"),
        }
        for pid in ids
    ]
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    processes, outputs = [], []
    for k in range(jobs):
        task_file, out_file = workdir / f"v1_tasks_{k}.json", workdir / f"v1_out_{k}.json"
        task_file.write_text(json.dumps(tasks[k::jobs]))
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", V1_RUNNER, str(task_file), str(out_file)], env=env, cwd=tree
            )
        )
        outputs.append(out_file)
    for process in processes:
        if process.wait() != 0:
            raise RuntimeError("a v1 fit process failed")
    results = {}
    for out_file in outputs:
        results.update({int(k): v for k, v in json.loads(out_file.read_text()).items()})
    module = {r["module"] for r in results.values()}
    if module != {str(tree / "spectramind" / "__init__.py")}:
        raise RuntimeError(f"v1 imported spectramind from {module}, not the worktree")
    return results


_PRIORS: FitPriors | None = None


def _init_v2(priors: FitPriors) -> None:
    global _PRIORS
    _PRIORS = priors


def _fit_v2(task: tuple[Path, int]) -> tuple[int, dict]:
    workdir, planet_id = task
    star = io.read_star_info(workdir / "raw", "test").loc[planet_id]
    with xr.open_dataset(workdir / "lightcurves/test" / f"{planet_id}.nc") as lc:
        lc = lc.load()
    start = time.process_time()
    fit = fit_planet(lc, star, workflow_options()[2], _PRIORS)
    seconds = time.process_time() - start
    return planet_id, {
        name: fit[name].values.tolist() for name in ("depth", "sigma", "fit_depth", "fit_sigma")
    } | {"seconds": seconds}


def fit_v2(workdir: Path, ids: list[int], priors: FitPriors, jobs: int) -> dict[int, dict]:
    with Pool(jobs, initializer=_init_v2, initargs=(priors,)) as pool:
        return dict(pool.imap_unordered(_fit_v2, [(workdir, pid) for pid in ids]))


# --- 4. table ---------------------------------------------------------------------------


def summarise(name: str, mu, sigma, seconds, truth, floors, naive) -> dict:
    mu = np.clip(mu, 0.0, None)  # as the submission step does
    error = mu - truth
    depth_only, marginalised = floors
    pulls = np.abs(error) / sigma
    return {
        "predictor": name,
        "score": competition_score(truth, mu, sigma, *naive),
        "rmse_ppm": float(np.sqrt(np.mean(error**2)) * 1e6),
        "rmse/depth-only": float(np.sqrt(np.mean(error**2) / np.mean(depth_only**2))),
        "rmse/marginalised": float(np.sqrt(np.mean(error**2) / np.mean(marginalised**2))),
        "airs rmse/depth-only": float(
            np.sqrt(np.mean(error[:, 1:] ** 2) / np.mean(depth_only[:, 1:] ** 2))
        ),
        "fgs1 |err|/depth-only": float(np.median(np.abs(error[:, 0]) / depth_only[:, 0])),
        "fgs1 |err|/marginalised": float(np.median(np.abs(error[:, 0]) / marginalised[:, 0])),
        "cov68": float(np.mean(pulls < 1.0)),
        "cov95": float(np.mean(pulls < 1.96)),
        "fit_s_per_planet": float(np.mean(seconds)) if seconds is not None else float("nan"),
    }


def full_cadence_seconds(
    config: SimulationConfig, workdir: Path, n_planets: int, priors: FitPriors, jobs: int
) -> list[float]:
    """v2 fit seconds (one core) on ``n_planets`` held-out planets simulated at full cadence."""
    full = SimulationConfig(**{**config.__dict__, "n_train": 0, "n_test": n_planets, "cadence": 1})
    prepare_data(full, workdir, jobs)
    ids = planet_ids(full)["test"]
    with Pool(jobs, initializer=_init_v2, initargs=(priors,)) as pool:
        return [r["seconds"] for _, r in pool.imap_unordered(_fit_v2, [(workdir, i) for i in ids])]


def benchmark_arguments(description: str) -> argparse.ArgumentParser:
    """The data set's command-line options, shared with benchmarks/model.py (same cache)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/physics_fit_benchmark"))
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--n-train", type=int, default=60)
    parser.add_argument("--n-labels", type=int, default=1000)
    parser.add_argument("--cadence", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    return parser


def simulation_config(args: argparse.Namespace) -> SimulationConfig:
    """The mismatch simulation the arguments describe."""
    return SimulationConfig(
        seed=args.seed, n_train=args.n_train, n_test=args.n_test, cadence=args.cadence, **MISMATCH
    )


def main() -> None:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--full-cadence", type=int, default=2, help="planets to time the v2 fit on at full size"
    )
    args = parser.parse_args()
    config = simulation_config(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print(f"1. data: {args.n_train} train + {args.n_test} test planets, cadence {args.cadence}")
    prepare_data(config, args.workdir, args.jobs)
    print(f"2. priors ({time.time() - started:.0f} s)", flush=True)
    priors = learn_priors(config, args.workdir, args.n_labels, args.jobs)
    truth = truth_table(args.workdir, "test", "depth")
    ids = list(truth.index)
    floors = tuple(
        truth_table(args.workdir, "test", key).loc[ids].to_numpy()
        for key in ("noise_floor", "noise_floor_marginalised")
    )
    naive = naive_reference(truth_table(args.workdir, "train", "depth").to_numpy())
    print(f"3. fits ({time.time() - started:.0f} s)", flush=True)
    v1 = fit_v1(args.workdir, ids, args.jobs)
    v2 = fit_v2(args.workdir, ids, priors, args.jobs)
    y = truth.to_numpy()

    def stack(results: dict, key: str) -> np.ndarray:
        return np.array([results[pid][key] for pid in ids])

    rng = np.random.default_rng(args.seed)
    ideal = y + rng.normal(size=y.shape) * floors[0]
    rows = [
        summarise("ideal (truth + floor noise)", ideal, floors[0], None, y, floors, naive),
        summarise(
            "v1",
            stack(v1, "depth"),
            stack(v1, "sigma"),
            stack(v1, "seconds"),
            y,
            floors,
            naive,
        ),
        summarise(
            "v2 without spectral prior",
            stack(v2, "fit_depth"),
            stack(v2, "fit_sigma"),
            stack(v2, "seconds"),
            y,
            floors,
            naive,
        ),
        summarise(
            "v2", stack(v2, "depth"), stack(v2, "sigma"), stack(v2, "seconds"), y, floors, naive
        ),
    ]
    table = pd.DataFrame(rows).set_index("predictor")
    table["score/ideal"] = table["score"] / table.loc["ideal (truth + floor noise)", "score"]
    pd.set_option("display.width", 200)
    print(
        f"\n{len(ids)} held-out mismatch planets, cadence {args.cadence}, seed {args.seed}; "
        f"priors from {args.n_train} training light curves and "
        f"{args.n_train + args.n_labels} training labels ({time.time() - started:.0f} s)"
    )
    print(table.round(3).T.to_string())
    print(f"white-light error scale learned from train: {priors.white_light_error_scale}")
    table.to_csv(args.workdir / "physics_fit_table.csv")
    if args.full_cadence:
        seconds = full_cadence_seconds(
            config, args.workdir / "full_cadence", args.full_cadence, priors, args.jobs
        )
        print(
            f"v2 fit at full cadence: {np.mean(seconds):.1f} s per planet (one core, "
            f"{len(seconds)} planets: {', '.join(f'{x:.1f}' for x in seconds)})"
        )


if __name__ == "__main__":
    main()
