"""``spectramind-simulate``: write a simulated raw root without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path

from spectramind.simulate import SimulationConfig, simulate_dataset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Simulate an ADC 2025 raw root (Kaggle layout) with known truth."
    )
    parser.add_argument("out", type=Path, help="raw root to create")
    parser.add_argument("--truth", type=Path, help="truth folder (default: <out>/../truth)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-train", type=int, default=6)
    parser.add_argument("--n-test", type=int, default=4)
    parser.add_argument("--cadence", type=int, default=10, help="1 = full size")
    parser.add_argument("--second-visit-fraction", type=float, default=0.1)
    args = parser.parse_args(argv)
    try:
        config = SimulationConfig(
            seed=args.seed,
            n_train=args.n_train,
            n_test=args.n_test,
            cadence=args.cadence,
            second_visit_fraction=args.second_visit_fraction,
        )
    except ValueError as err:
        parser.error(str(err))
    simulate_dataset(config, args.out, args.truth or args.out.parent / "truth")


if __name__ == "__main__":
    main()
