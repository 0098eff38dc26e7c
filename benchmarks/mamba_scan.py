"""Benchmark: sequential against parallel selective scan (spectramind.models.mamba) on CPU.

Times both scans on the inputs a MambaMixer of d_model 32 (d_inner 64, d_state 16) feeds
them, batch 8, for lengths 128..2048: forward alone (no autograd) and forward + backward.
Each timing is the best of --repeats runs; the ratios are of timings from this same run.

    python benchmarks/mamba_scan.py [--lengths 128 256 512 1024 2048 --repeats 3 --threads 1]
"""

# ruff: noqa: E402 (BLAS threads are set before torch is imported)

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import time

import torch

from spectramind.models.mamba import (
    MambaMixer,
    selective_scan_parallel,
    selective_scan_sequential,
)

SCANS = {"sequential": selective_scan_sequential, "parallel": selective_scan_parallel}


def scan_inputs(batch: int, d_model: int, length: int) -> dict:
    """Scan inputs with the shapes and initial scales of a fresh MambaMixer's."""
    mixer = MambaMixer(d_model)
    d_inner, d_state = mixer.d_inner, mixer.d_state
    return dict(
        u=torch.randn(batch, d_inner, length),
        delta=torch.randn(batch, d_inner, length),
        A=-torch.exp(mixer.A_log.detach()),
        B=torch.randn(batch, d_state, length),
        C=torch.randn(batch, d_state, length),
        D=mixer.D.detach().clone(),
        delta_bias=mixer.dt_proj.bias.detach().clone(),
        delta_softplus=True,
    )


def best_time(run, repeats: int) -> float:
    """Shortest wall time of `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def time_scan(scan, inputs: dict, backward: bool, repeats: int) -> float:
    """Seconds for one forward (no autograd) or one forward + backward of `scan`."""
    if not backward:

        def run():
            with torch.no_grad():
                scan(**inputs)

        return best_time(run, repeats)
    differentiable = ("u", "delta", "A", "B", "C", "D", "delta_bias")
    leaves = {k: v.requires_grad_() if k in differentiable else v for k, v in inputs.items()}

    def run():
        scan(**leaves).sum().backward()

    return best_time(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    print(
        f"batch {args.batch}, d_model {args.d_model}, float32, {args.threads} thread(s), "
        f"best of {args.repeats}; ratio = sequential / parallel (>1: parallel faster)"
    )
    print(f"{'length':>6} {'pass':>9} {'sequential s':>13} {'parallel s':>11} {'ratio':>6}")
    for length in args.lengths:
        for backward in (False, True):
            inputs = scan_inputs(args.batch, args.d_model, length)
            seconds = {
                name: time_scan(scan, dict(inputs), backward, args.repeats)
                for name, scan in SCANS.items()
            }
            ratio = seconds["sequential"] / seconds["parallel"]
            label = "fwd+bwd" if backward else "fwd"
            print(
                f"{length:>6} {label:>9} {seconds['sequential']:>13.4f} "
                f"{seconds['parallel']:>11.4f} {ratio:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
