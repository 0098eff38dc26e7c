"""The organisers' reference calibration, written the plain way their notebook does it.

float64 throughout, numpy masked arrays with np.tile'd masks, one np.poly1d per pixel for
the linearity correction, whole-visit arrays in memory: ADC -> mask hot (5-sigma clip of
the dark) and dead -> linearity -> dark (dt 0.1 s short, 0.1 s + integration long) -> CDS
-> time-bin sums -> flat. AIRS is cropped to columns 39..320 first, as the notebook does.

It is the correctness and speed reference for spectramind.calibrate; it is not used by the
workflow. Run it on one planet:

    python benchmarks/reference_calibration.py ROOT PLANET_ID [--split train]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.stats import sigma_clip

SCIENCE_COLUMNS = {"AIRS-CH0": slice(39, 321), "FGS1": slice(0, 32)}
WIDTH = {"AIRS-CH0": 356, "FGS1": 32}
BINNING = {"AIRS-CH0": 30, "FGS1": 360}


def adc_convert(signal: np.ndarray, gain: float, offset: float) -> np.ndarray:
    signal = signal.astype(np.float64)
    signal /= gain
    signal += offset
    return signal


def mask_hot_dead(signal: np.ndarray, dead: np.ndarray, dark: np.ndarray) -> np.ma.MaskedArray:
    hot = sigma_clip(dark, sigma=5, maxiters=5).mask
    hot = np.tile(hot, (signal.shape[0], 1, 1))
    dead = np.tile(dead, (signal.shape[0], 1, 1))
    signal = np.ma.masked_where(dead, signal)
    return np.ma.masked_where(hot, signal)


def apply_linear_corr(linear_corr: np.ndarray, signal: np.ma.MaskedArray) -> np.ma.MaskedArray:
    linear_corr = np.flip(linear_corr, axis=0)
    for x, y in itertools.product(range(signal.shape[1]), range(signal.shape[2])):
        poly = np.poly1d(linear_corr[:, x, y])
        signal[:, x, y] = poly(signal[:, x, y])
    return signal


def clean_dark(
    signal: np.ma.MaskedArray, dead: np.ndarray, dark: np.ndarray, dt: np.ndarray
) -> np.ma.MaskedArray:
    dark = np.ma.masked_where(dead, dark)
    dark = np.tile(dark, (signal.shape[0], 1, 1))
    signal -= dark * dt[:, np.newaxis, np.newaxis]
    return signal


def get_cds(signal: np.ma.MaskedArray) -> np.ma.MaskedArray:
    return signal[1::2, :, :] - signal[::2, :, :]


def bin_obs(cds: np.ma.MaskedArray, binning: int) -> np.ma.MaskedArray:
    n_bins = cds.shape[0] // binning
    binned = np.ma.zeros((n_bins, cds.shape[1], cds.shape[2]))
    for i in range(n_bins):
        binned[i] = np.ma.sum(cds[i * binning : (i + 1) * binning], axis=0)
    return binned


def correct_flat_field(
    flat: np.ndarray, dead: np.ndarray, signal: np.ma.MaskedArray
) -> np.ma.MaskedArray:
    flat = np.ma.masked_where(dead, flat)
    flat = np.tile(flat, (signal.shape[0], 1, 1))
    return signal / flat


def _frame(folder: Path, name: str, instrument: str) -> np.ndarray:
    values = pd.read_parquet(folder / f"{name}.parquet").to_numpy()
    return values[:, SCIENCE_COLUMNS[instrument]] if name != "linear_corr" else values


def calibrate(
    root: Path, split: str, planet_id: int, instrument: str, visit: int = 0,
    binning: int | None = None,
) -> np.ma.MaskedArray:  # fmt: skip
    """Binned, calibrated (bins, 32, columns) masked array of one visit."""
    root = Path(root)
    adc = pd.read_csv(root / "adc_info.csv").iloc[0]
    axis = pd.read_parquet(root / "axis_info.parquet")
    planet = root / split / str(planet_id)
    folder = planet / f"{instrument}_calibration_{visit}"
    width = WIDTH[instrument]
    signal = pd.read_parquet(planet / f"{instrument}_signal_{visit}.parquet").to_numpy()
    signal = signal.reshape(signal.shape[0], 32, width)[:, :, SCIENCE_COLUMNS[instrument]]
    dark = _frame(folder, "dark", instrument)
    dead = _frame(folder, "dead", instrument)
    flat = _frame(folder, "flat", instrument)
    linear_corr = _frame(folder, "linear_corr", instrument).reshape(6, 32, width)
    linear_corr = linear_corr[:, :, SCIENCE_COLUMNS[instrument]]
    if instrument == "AIRS-CH0":
        dt = axis["AIRS-CH0-integration_time"].dropna().to_numpy().copy()
    else:
        dt = np.ones(len(signal)) * 0.1
    dt[1::2] += 0.1

    signal = adc_convert(signal, adc[f"{instrument}_adc_gain"], adc[f"{instrument}_adc_offset"])
    signal = mask_hot_dead(signal, dead, dark)
    signal = apply_linear_corr(linear_corr, signal)
    signal = clean_dark(signal, dead, dark, dt)
    cds = get_cds(signal)
    binned = bin_obs(cds, binning or BINNING[instrument])
    return correct_flat_field(flat, dead, binned)


def main() -> None:
    parser = argparse.ArgumentParser(description="Organisers' reference calibration of a planet.")
    parser.add_argument("root", type=Path)
    parser.add_argument("planet_id", type=int)
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    for instrument in ("FGS1", "AIRS-CH0"):
        start = time.perf_counter()
        result = calibrate(args.root, args.split, args.planet_id, instrument)
        print(f"{instrument}: {result.shape} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
