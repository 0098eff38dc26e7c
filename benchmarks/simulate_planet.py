"""Benchmark: full-size simulation of one planet visit on one core.

Reports the wall time of writing a complete planet (both instruments, one visit, the real
135000 + 11250 frames), its size on disk, and as a reference measured in the same run the
time to merely write the same frames again through the same parquet writer
(the I/O floor no simulator can beat). Usage:

    python benchmarks/simulate_planet.py [--cadence 1] [--out /tmp/bench]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np

from spectramind.io import read_signal
from spectramind.io.layout import INSTRUMENTS, frame_shape
from spectramind.simulate import SimulationConfig
from spectramind.simulate.planet import ROW_GROUP_FRAMES, write_planet
from spectramind.simulate.population import draw_population
from spectramind.simulate.writer import write_frame_stream


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_only(planet_folder: Path, out: Path) -> float:
    """Seconds to write the very same frames again through the same writer (the I/O floor)."""
    out.mkdir(parents=True, exist_ok=True)
    frames = {
        (instrument, path.name): read_signal(path, instrument)
        for instrument in INSTRUMENTS
        for path in sorted(planet_folder.glob(f"{instrument}_signal_*.parquet"))
    }
    start = time.perf_counter()
    for (instrument, name), data in frames.items():
        rows, cols = frame_shape(instrument)
        step = ROW_GROUP_FRAMES[instrument]
        chunks = (data[s : s + step] for s in range(0, len(data), step))
        write_frame_stream(out / name, rows * cols, chunks, step)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadence", type=int, default=1)
    parser.add_argument("--visits", type=int, choices=(1, 2), default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/spectramind-bench"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    config = SimulationConfig(
        seed=1,
        n_train=1,
        n_test=0,
        cadence=args.cadence,
        second_visit_fraction=float(args.visits == 2),
    )
    planet = draw_population(config)[0]
    assert len(planet.visits) == args.visits
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    start = time.perf_counter()
    write_planet(config, planet, args.out / "planet")
    simulate_s = time.perf_counter() - start
    reference_s = write_only(args.out / "planet", args.out / "reference")
    size = folder_size(args.out / "planet")
    visit_bytes = sum(2 * config.n_pairs(i) * np.prod(frame_shape(i)) * 2 for i in INSTRUMENTS)
    raw = args.visits * visit_bytes
    print(
        f"cadence {args.cadence}: {args.visits} visit(s) of "
        f"FGS1 {2 * config.n_pairs('FGS1')} frames, "
        f"AIRS-CH0 {2 * config.n_pairs('AIRS-CH0')} frames, one core"
    )
    print(f"{'simulate + write planet':32s} {simulate_s:8.1f} s")
    print(f"{'write same frames only (ref)':32s} {reference_s:8.1f} s")
    print(f"{'ratio simulate / write-only':32s} {simulate_s / reference_s:8.2f}")
    print(f"{'size on disk':32s} {size / 1e6:8.0f} MB ({size / raw:.2f} of raw uint16)")
    shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
