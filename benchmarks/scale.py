"""Benchmark: the workflow at the hidden test set's scale (~1100 planets x ~530 MB raw).

(a) Planning: ``snakemake -n inference`` over a 1100-planet test root of empty stand-in
    files (13 per visit; a tenth of the planets with a second visit), with a job per planet
    and with ``planets_per_job`` planets per job. Target: <= 30 s.
(b) Running: real inference on a few full-size simulated planets (cadence 1), timing every
    stage per planet, and the extrapolation to 1100 planets on a 4-core Kaggle notebook.
    Target: <= 1.8 h (a 5x margin on the 9 h limit).
(c) Start-up overhead per job, with a job per planet and batched: a job's wall time less
    the seconds its units spent working (each unit's manifest records them).

Needs the results/artifacts folder of a run that trained the model (e.g. after
``make demo``). The simulated planets are kept in --workdir and reused.

    python benchmarks/scale.py --artifacts results/artifacts --workdir /tmp/scale
"""

# ruff: noqa: E402 (BLAS threads are set before numpy is imported)

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from spectramind.io.layout import CALIBRATION_FRAMES
from spectramind.simulate import SimulationConfig, simulate_dataset

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TOP_LEVEL = ("adc_info.csv", "axis_info.parquet", "wavelengths.csv")
KAGGLE_CORES = 4
STAGES = ("calibrate", "extract", "fit")


def snakemake(workdir: Path, *args: str) -> tuple[float, str]:
    """Run the workflow in ``workdir``: its wall time in seconds and its standard output
    (a failure stops here)."""
    start = time.perf_counter()
    result = subprocess.run(
        [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, result.stdout


def stand_in_root(source: Path, root: Path, n_planets: int, second_visits: float) -> None:
    """A test-only raw root of ``n_planets`` planets with empty raw files: what planning
    reads (folder names, star table, top-level files) and nothing it does not."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "test").mkdir(parents=True)
    for name in TOP_LEVEL:
        shutil.copy(source / name, root / name)
    stars = pd.read_csv(source / "test_star_info.csv")
    ids = [1_000_000 + i for i in range(n_planets)]
    stars = stars.iloc[[i % len(stars) for i in range(n_planets)]].assign(planet_id=ids)
    stars.to_csv(root / "test_star_info.csv", index=False)
    sample = pd.read_csv(source / "sample_submission.csv")
    sample.iloc[[0] * n_planets].assign(planet_id=ids).to_csv(
        root / "sample_submission.csv", index=False
    )
    for index, planet_id in enumerate(ids):
        planet = root / "test" / str(planet_id)
        visits = 2 if index < second_visits * n_planets else 1
        for visit in range(visits):
            for instrument in ("FGS1", "AIRS-CH0"):
                (planet / f"{instrument}_signal_{visit}.parquet").parent.mkdir(
                    parents=True, exist_ok=True
                )
                (planet / f"{instrument}_signal_{visit}.parquet").touch()
                calibration = planet / f"{instrument}_calibration_{visit}"
                calibration.mkdir()
                for frame in CALIBRATION_FRAMES:
                    (calibration / f"{frame}.parquet").touch()


def planning(args: argparse.Namespace, source: Path) -> list[dict]:
    """(a): dry-run wall time and job count over the stand-in root."""
    root = args.workdir / "standin"
    stand_in_root(source, root, args.n_planets, args.second_visit_fraction)
    rows = []
    for per_job in (1, args.planets_per_job):
        work = args.workdir / f"plan_{per_job}"
        shutil.rmtree(work, ignore_errors=True)
        seconds, output = snakemake(
            work, "-n", "inference", "--config", f"raw_dir={root}",
            f"artifacts_dir={args.artifacts}", f"planets_per_job={per_job}",
        )  # fmt: skip
        jobs = re.search(r"^total\s+(\d+)", output, re.MULTILINE)
        rows.append({"planets_per_job": per_job, "jobs": int(jobs[1]), "dry_run_s": seconds})
    return rows


def full_size_root(args: argparse.Namespace) -> Path:
    """Full-size simulated test planets (one visit each), made once per --workdir."""
    root = args.workdir / "full/raw"
    if not (root / "test_star_info.csv").is_file():
        shutil.rmtree(args.workdir / "full", ignore_errors=True)
        config = SimulationConfig(
            seed=args.seed, n_train=0, n_test=args.full_size_planets, cadence=1,
            second_visit_fraction=0.0,
        )  # fmt: skip
        simulate_dataset(config, root, args.workdir / "full/truth")
    return root


def stage_costs(work: Path) -> pd.DataFrame:
    """Per per-planet stage: the jobs run and their summed wall seconds (benchmark files),
    and the summed seconds their units spent working (each unit's manifest)."""
    rows = []
    for stage in STAGES:
        walls = [
            pd.read_csv(path, sep="\t")["s"].iloc[-1]
            for path in (work / "results/benchmarks" / stage).rglob("*.tsv")
        ]
        units = [
            json.loads(path.read_text())["seconds"]
            for path in (work / "results/manifests" / stage).rglob("*.json")
        ]
        rows.append(
            {"stage": stage, "jobs": len(walls), "wall_s": sum(walls), "work_s": sum(units)}
        )
    return pd.DataFrame(rows).set_index("stage")


def running(args: argparse.Namespace, root: Path) -> dict[int, pd.DataFrame]:
    """(b, c): inference on the full-size planets, a job per planet and all in one batch,
    one core so no job competes with another."""
    costs = {}
    for per_job in (1, args.full_size_planets):
        work = args.workdir / f"run_{per_job}"
        shutil.rmtree(work, ignore_errors=True)
        wall, _ = snakemake(
            work, "inference", "--cores", "1", "--config", f"raw_dir={root}",
            f"artifacts_dir={args.artifacts}", f"planets_per_job={per_job}",
        )  # fmt: skip
        costs[per_job] = stage_costs(work)
        costs[per_job].attrs["wall_s"] = wall
    return costs


def report(args: argparse.Namespace, plans: list[dict], costs: dict[int, pd.DataFrame]) -> None:
    print("(a) snakemake -n inference over", args.n_planets, "stand-in planets")
    for row in plans:
        print(
            f"    planets_per_job {row['planets_per_job']:>3}: {row['jobs']:>5} jobs planned "
            f"in {row['dry_run_s']:.1f} s (target <= 30 s)"
        )
    n, batch = args.full_size_planets, args.planets_per_job
    per_planet, batched = costs[1], costs[n]
    print(
        f"(b, c) full-size inference of {n} planets on 1 core: "
        f"{per_planet.attrs['wall_s']:.0f} s with a job per planet, "
        f"{batched.attrs['wall_s']:.0f} s with one job per stage"
    )
    print(
        f"    {'stage':<10} {'work s/planet':>14} {'start-up s/job':>15} "
        f"{'start-up s/job, batched':>24} {'s/planet, job each':>19} "
        f"{f's/planet, {batch}/job':>16}"
    )
    seconds = {"job each": 0.0, "batched": 0.0}
    for stage in STAGES:
        before, after = per_planet.loc[stage], batched.loc[stage]
        work = after.work_s / n
        overhead_before = (before.wall_s - before.work_s) / before.jobs
        overhead_after = (after.wall_s - after.work_s) / after.jobs
        visits = 1 + args.second_visit_fraction if stage == "calibrate" else 1
        jobs_per_planet = before.jobs / n * visits
        each = work * visits + overhead_before * jobs_per_planet
        batched_s = work * visits + overhead_after / batch
        seconds["job each"] += each
        seconds["batched"] += batched_s
        print(
            f"    {stage:<10} {work:>14.2f} {overhead_before:>15.2f} {overhead_after:>24.2f} "
            f"{each:>19.2f} {batched_s:>16.2f}"
        )
    one_off = batched.attrs["wall_s"] - batched.wall_s.sum()
    print(
        f"    (a second visit for {args.second_visit_fraction:.0%} of planets; the rest of "
        f"the run: Snakemake, prediction, submission: {one_off:.0f} s)"
    )
    for name, per_planet_s in seconds.items():
        hours = (per_planet_s * args.n_planets / KAGGLE_CORES + one_off) / 3600
        print(
            f"    {args.n_planets} planets on {KAGGLE_CORES} cores, {name}: "
            f"{per_planet_s:.1f} s/planet, {hours:.2f} h (target <= 1.8 h)"
        )
    print("    (assumes a Kaggle core as fast as one here, and no other load on this one)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--artifacts",
        type=Path,
        required=True,
        help="results/artifacts of a run that trained the model",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/scale"))
    parser.add_argument("--n-planets", type=int, default=1100)
    parser.add_argument("--planets-per-job", type=int, default=25)
    parser.add_argument("--second-visit-fraction", type=float, default=0.1)
    parser.add_argument("--full-size-planets", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.artifacts = args.artifacts.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    root = full_size_root(args)
    plans = planning(args, root)
    costs = running(args, root)
    report(args, plans, costs)


if __name__ == "__main__":
    main()
