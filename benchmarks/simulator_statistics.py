"""Simulated vs real raw-data statistics (simulate/constants.py), measured on written files.

Signal statistics are the median over planets; calibration statistics pool the pixels of all
planets.

python benchmarks/simulator_statistics.py [--planets 8] [--cadence 10]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from spectramind.simulate import SimulationConfig, simulate_dataset
from spectramind.simulate.validation import measure_root, real_statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planets", type=int, default=8)
    parser.add_argument("--cadence", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    config = SimulationConfig(
        seed=args.seed,
        n_train=args.planets,
        n_test=0,
        cadence=args.cadence,
        second_visit_fraction=0.0,
    )
    base = Path(tempfile.mkdtemp(prefix="spectramind-stats-"))
    try:
        simulate_dataset(config, base / "raw", base / "truth")
        measured = measure_root(base / "raw", "train", args.cadence)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{args.planets} planets, cadence {args.cadence}, seed {args.seed}")
    print(f"| {'statistic':34s} | {'simulated':>11s} | {'real':>11s} | sim/real |")
    print(f"|{'-' * 36}|{'-' * 13}|{'-' * 13}|----------|")
    for name, real in real_statistics().items():
        value = measured[name]
        print(f"| {name:34s} | {value:11.4g} | {real:11.4g} | {value / real:8.3f} |")


if __name__ == "__main__":
    main()
