"""Benchmark: calibration of one full-size planet visit (both instruments) on one core.

Each method runs in its own fresh process, pinned to one core, so its peak RSS is its own:
  decode     iter_signal_chunks over both signal files into uint16 arrays (the floor)
  ours       spectramind.calibrate.calibrate_visit, default options, both instruments
  reference  benchmarks/reference_calibration.py (the organisers' notebook method)
  peer       ariel-data-preprocessing 1.5, when --peer-python points to a venv that has it
             (see benchmarks/peer_ariel_data_preprocessing.py)
Times are the best of --repeat runs (reference and peer: one run). Usage:

    python benchmarks/calibration.py [--root R --planet-id N] [--repeat 3] [--peer-python P]

Without --root a full-size planet is simulated into a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTRUMENTS = ("FGS1", "AIRS-CH0")


def run_worker(method: str, root: Path, planet_id: int) -> dict:
    """Time ``method`` once in this process; return seconds and peak RSS."""
    if method == "decode":
        from spectramind.io import iter_signal_chunks, signal_path

        def work() -> None:
            for ins in INSTRUMENTS:
                for _ in iter_signal_chunks(signal_path(root, "train", planet_id, ins, 0), ins):
                    pass
    elif method == "ours":
        from spectramind.calibrate import calibrate_visit

        calibrate_visit(root, "train", planet_id, "FGS1", 0)  # load numba's cached kernels

        def work() -> None:
            for ins in INSTRUMENTS:
                calibrate_visit(root, "train", planet_id, ins, 0)
    else:
        sys.path.insert(0, str(HERE))
        from reference_calibration import calibrate

        def work() -> None:
            for ins in INSTRUMENTS:
                calibrate(root, "train", planet_id, ins, 0)

    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mb": peak_mb}


def in_subprocess(command: list[str]) -> dict:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    out = subprocess.run(pin + command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path)
    parser.add_argument("--planet-id", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-python", type=Path)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--worker", choices=("decode", "ours", "reference"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.root, args.planet_id)))
        return

    scratch = None
    if args.root is None:
        from spectramind.io import discover_planets
        from spectramind.simulate import SimulationConfig, simulate_dataset

        scratch = Path(tempfile.mkdtemp(prefix="spectramind-calbench-"))
        config = SimulationConfig(seed=1, n_train=1, n_test=0, cadence=1, second_visit_fraction=0)
        simulate_dataset(config, scratch / "raw", scratch / "truth")
        args.root, args.planet_id = scratch / "raw", discover_planets(scratch / "raw", "train")[0]
    me = [sys.executable, __file__, "--root", str(args.root), "--planet-id", str(args.planet_id)]
    results: dict[str, dict] = {}
    try:
        for _ in range(args.repeat):  # interleave so drifts in machine speed hit both alike
            for method in ("decode", "ours"):
                run = in_subprocess([*me, "--worker", method])
                best = results.get(method)
                if best is None or run["seconds"] < best["seconds"]:
                    results[method] = run
        if not args.skip_reference:
            results["reference"] = in_subprocess([*me, "--worker", "reference"])
        if args.peer_python:
            peer = HERE / "peer_ariel_data_preprocessing.py"
            results["peer"] = in_subprocess(
                [str(args.peer_python), str(peer), "--root", str(args.root),
                 "--planet-id", str(args.planet_id)]
            )  # fmt: skip
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    decode, ours = results["decode"]["seconds"], results["ours"]["seconds"]
    print(f"planet {args.planet_id}, visit 0, FGS1 + AIRS-CH0, one core ({os.cpu_count()} on host)")
    header = ("method", "seconds", "/ decode", "/ ours", "peak RSS MB")
    print("| {:10s} | {:>8s} | {:>8s} | {:>7s} | {:>11s} |".format(*header))
    print(f"|{'-' * 12}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 13}|")
    for method, run in results.items():
        s = run["seconds"]
        print(f"| {method:10s} | {s:8.2f} | {s / decode:8.2f} | {s / ours:7.2f} | "
              f"{run['peak_rss_mb']:11.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
