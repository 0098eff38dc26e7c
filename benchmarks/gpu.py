"""Check and time the model's CUDA paths; run it on a machine with a GPU.

1. The pure-PyTorch Mamba mixer (both scans) against ``mamba_ssm``'s CUDA ``Mamba`` holding the
   same weights: outputs, input gradients and parameter gradients (skipped, and said so, when
   ``mamba_ssm`` does not import).
2. A V50 model trained on CUDA (AMP, ``mamba_ssm``'s scan kernel when it imports) is saved,
   loaded in a CPU-only process (``CUDA_VISIBLE_DEVICES=``, pure-PyTorch scan) and predicts
   the same.
3. Seconds per training epoch of the default model on the same synthetic planets: CPU (all
   cores) against CUDA, and their ratio, measured in this run.
4. Selective scans on CUDA, forward + backward: sequential, parallel, ``mamba_ssm``'s kernel.

Prints one JSON object.

    python benchmarks/gpu.py [--planets 256 --epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from spectramind.models.dataset import synthetic_samples
from spectramind.models.mamba import (
    MambaMixer,
    mamba_ssm_scan,
    selective_scan_parallel,
    selective_scan_sequential,
)
from spectramind.models.training import TrainingOptions, predict, save_checkpoint, train_model
from spectramind.models.v50 import ModelOptions

WAVELENGTH = np.linspace(0.7, 7.8, 283)  # FGS1 then AIRS, microns: only the graph needs them
NAIVE = (0.012, 0.009)
CPU_PREDICT = """
import sys, torch
from spectramind.models.training import load_checkpoint, predict
from spectramind.models.v50 import ModelOptions
from spectramind.models.dataset import synthetic_samples
model = load_checkpoint(sys.argv[1], ModelOptions())
assert next(model.parameters()).device.type == "cpu"
mu, sigma = predict(model, synthetic_samples(int(sys.argv[3]), seed=1, steps=64))
torch.save({"mu": mu, "sigma": sigma}, sys.argv[2])
"""


def _mamba_ssm():
    try:
        from mamba_ssm.modules.mamba_simple import Mamba
    except ImportError as error:
        return None, repr(error)
    return Mamba, None


def mixer_equivalence() -> dict:
    """Max abs differences of outputs and gradients, pure PyTorch vs mamba_ssm, float32."""
    Mamba, error = _mamba_ssm()
    if Mamba is None:
        return {"skipped": f"mamba_ssm does not import: {error}"}
    out = {}
    for scan in ("sequential", "parallel", "mamba_ssm kernel"):
        torch.manual_seed(0)
        kernel = scan == "mamba_ssm kernel"
        mixer = MambaMixer(32, scan="parallel" if kernel else scan, cuda_kernel=kernel).cuda()
        with torch.no_grad():  # move every parameter off its initial value
            for p in mixer.parameters():
                p.add_(0.05 * torch.randn_like(p))
        reference = Mamba(32, use_fast_path=False).cuda()
        reference.load_state_dict(mixer.state_dict(), strict=True)
        x = torch.randn(4, 256, 32, device="cuda")
        results = []
        for module in (mixer, reference):
            xi = x.clone().requires_grad_(True)
            y = module(xi)
            (y.square().sum()).backward()
            grads = {n: p.grad.clone() for n, p in module.named_parameters()}
            module.zero_grad()
            results.append((y.detach(), xi.grad, grads))
        (y0, gx0, gp0), (y1, gx1, gp1) = results
        out[scan] = {
            "output_max_abs_diff": float((y0 - y1).abs().max()),
            "output_scale": float(y1.abs().max()),
            "input_grad_max_rel_diff": float((gx0 - gx1).abs().max() / gx1.abs().max()),
            "param_grad_max_rel_diff": max(
                float((gp0[n] - gp1[n]).abs().max() / gp1[n].abs().max().clamp_min(1e-30))
                for n in gp1
            ),
        }
    return out


def train_on_cuda_predict_on_cpu(planets: int) -> dict:
    """Train 2 epochs on CUDA with AMP, then predict with the checkpoint on CUDA and on CPU."""
    samples = synthetic_samples(planets, seed=1, steps=64)
    options = TrainingOptions(epochs=2, patience=2)
    result = train_model(samples, WAVELENGTH, NAIVE, ModelOptions(), options, seed=0)
    from spectramind.models.v50 import V50Model

    model = V50Model(ModelOptions(), WAVELENGTH).cuda()
    model.load_state_dict(result.state_dict)
    mu_cuda, sigma_cuda = predict(model, samples)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "checkpoint.pt"
        save_checkpoint(checkpoint, result, ModelOptions(), "cuda-check", {}, WAVELENGTH)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        subprocess.run([sys.executable, "-c", CPU_PREDICT, str(checkpoint), f"{tmp}/cpu.pt",
                        str(planets)], env=env, check=True)  # fmt: skip
        cpu = torch.load(f"{tmp}/cpu.pt")
    return {
        "cuda_scan": "mamba_ssm kernel" if mamba_ssm_scan() else "pure PyTorch",
        "history": result.history,
        "mu_max_rel_diff": float(((mu_cuda - cpu["mu"]).abs() / sigma_cuda).max()),
        "sigma_max_rel_diff": float(((sigma_cuda - cpu["sigma"]).abs() / sigma_cuda).max()),
    }


def seconds_per_epoch(planets: int, epochs: int) -> float:
    """Mean seconds per training epoch on whatever device train_model picks."""
    samples = synthetic_samples(planets, seed=2, steps=64)
    options = TrainingOptions(epochs=epochs, patience=epochs)
    start = time.perf_counter()
    train_model(samples, WAVELENGTH, NAIVE, ModelOptions(), options, seed=0)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / epochs


def cpu_seconds_per_epoch(planets: int, epochs: int) -> float:
    """The same on CPU: a process that sees no GPU, so the model has pure-PyTorch mixers."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, __file__, "--cpu-epoch", str(planets), str(epochs)]
    return float(subprocess.run(command, env=env, check=True, capture_output=True,
                                text=True).stdout.split()[-1])  # fmt: skip


def scan_timings(lengths: list[int]) -> dict:
    """Forward + backward milliseconds of each scan on CUDA, batch 8, d_inner 64, d_state 16."""
    scans = {"sequential": selective_scan_sequential, "parallel": selective_scan_parallel}
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

        scans["mamba_ssm"] = selective_scan_fn
    except ImportError:
        pass
    out: dict = {}
    for length in lengths:
        g = torch.Generator(device="cuda").manual_seed(length)
        shapes = dict(u=(8, 64, length), delta=(8, 64, length), B=(8, 16, length),
                      C=(8, 16, length), D=(64,))  # fmt: skip
        inputs = {k: torch.randn(*v, device="cuda", generator=g) for k, v in shapes.items()}
        inputs["A"] = -torch.rand(64, 16, device="cuda", generator=g)
        for tensor in inputs.values():
            tensor.requires_grad_(True)
        for name, scan in scans.items():
            timings = []
            for repeat in range(13):  # three warm-ups, then ten timed
                torch.cuda.synchronize()
                start = time.perf_counter()
                scan(**inputs, delta_softplus=True).sum().backward()
                torch.cuda.synchronize()
                if repeat >= 3:
                    timings.append(1e3 * (time.perf_counter() - start))
            out.setdefault(name, {})[length] = float(np.mean(timings))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planets", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--cpu-epoch", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu_epoch:
        print(seconds_per_epoch(*args.cpu_epoch))
        return
    if not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py needs a CUDA device; none is visible")
    report = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(),
        "mamba_ssm": _mamba_ssm()[1] or "imports",
        "mixer_equivalence": mixer_equivalence(),
        "train_cuda_predict_cpu": train_on_cuda_predict_on_cpu(64),
    }
    cuda = seconds_per_epoch(args.planets, args.epochs)
    cpu = cpu_seconds_per_epoch(args.planets, args.epochs)
    report["epoch_seconds"] = {"cuda": cuda, "cpu": cpu, "cpu_over_cuda": cpu / cuda,
                               "cpu_threads": torch.get_num_threads()}  # fmt: skip
    report["scan_ms_forward_backward"] = scan_timings(args.lengths)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
