"""Measure a raw root the way the real figures (constants.py) were measured, to compare with them.

Signal levels use a minimal chain (ADC, linearity, CDS, sum over the science pixels);
scatter is the rms of the white light around a 10-minute running median, so transit and
drift do not count but pointing jitter does. Calibration statistics are measured on the
frames read back from disk, pooling the pixels of every planet: one FGS1 frame holds only
~3 dead and ~11 hot pixels, too few for a fraction or a percentile on its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

from spectramind.calibrate.pixels import hot_pixels
from spectramind.io import (
    CalibrationFrames,
    calibration_dir,
    discover_planets,
    read_adc_info,
    read_axis_info,
    read_calibration,
    read_signal,
    signal_path,
)
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, INSTRUMENTS, PAIR_PERIOD_S
from spectramind.simulate.constants import (
    REAL_AIRS_COLUMN_SCATTER_PPM,
    REAL_COUNTS_PER_PAIR,
    REAL_DARK_MEDIAN,
    REAL_DARK_P99_RATIO,
    REAL_DEAD_FRACTION,
    REAL_FLAT_LIVE_PERCENTILES,
    REAL_FLAT_LIVE_STD,
    REAL_FLAT_MEDIAN,
    REAL_HOT_FRACTION,
    REAL_LINEAR_CORR_MEDIANS,
    REAL_PAIR_SCATTER_PPM,
    REAL_RAW_RANGE,
    REAL_READ_MEDIAN,
    REAL_READ_P99_RATIO,
)

SCATTER_WINDOW_S = 600.0


def real_statistics() -> dict[str, float]:
    """The real-data figures of constants.py, keyed like ``measure_root``'s output."""
    low, high = REAL_FLAT_LIVE_PERCENTILES
    stats: dict[str, float] = {}
    for p in INSTRUMENTS:
        stats[f"{p} counts per pair"] = REAL_COUNTS_PER_PAIR[p]
        stats[f"{p} pair scatter ppm"] = REAL_PAIR_SCATTER_PPM[p]
        stats[f"{p} raw min"] = REAL_RAW_RANGE[p][0]
        stats[f"{p} raw max"] = REAL_RAW_RANGE[p][1]
        stats[f"{p} dark median"] = REAL_DARK_MEDIAN
        stats[f"{p} hot fraction"] = REAL_HOT_FRACTION[p]
        stats[f"{p} dead fraction"] = REAL_DEAD_FRACTION[p]
        stats[f"{p} flat median"] = REAL_FLAT_MEDIAN
        stats[f"{p} live flat std"] = REAL_FLAT_LIVE_STD
        stats[f"{p} live flat p1"] = low
        stats[f"{p} live flat p99"] = high
        stats[f"{p} live flat p99 - p1"] = high - low
        stats[f"{p} read median"] = REAL_READ_MEDIAN
        stats[f"{p} read p99 / median"] = REAL_READ_P99_RATIO
        for power, median in enumerate(REAL_LINEAR_CORR_MEDIANS):
            stats[f"{p} linear_corr c{power} median"] = median
    stats["AIRS-CH0 dark p99 / median"] = REAL_DARK_P99_RATIO
    stats["AIRS-CH0 column scatter ppm"] = REAL_AIRS_COLUMN_SCATTER_PPM
    return stats


def _relative_scatter_ppm(series: np.ndarray, window: int) -> float:
    """rms (ppm) of ``series`` around its running median over ``window`` samples."""
    trend = median_filter(series, size=max(3, window), mode="nearest")
    return float(np.std(series / trend - 1.0) * 1e6)


def measure_signal(
    root: str | Path,
    split: str,
    planet_id: int,
    calib: CalibrationFrames,
    instrument: str,
    visit: int = 0,
    cadence: int = 1,
) -> dict[str, float]:
    """Signal levels, scatter and raw range of one visit, calibrated with its ``calib``."""
    axis = read_axis_info(root)
    adc = read_adc_info(root)[instrument]
    raw = read_signal(
        signal_path(root, split, planet_id, instrument, visit),
        instrument,
        axis.n_frames(instrument),
    )
    physical = raw.astype(np.float64) / adc.gain + adc.offset
    linear = np.polynomial.polynomial.polyval(physical, calib.linear_corr, tensor=False)
    cds = linear[1::2] - linear[0::2]
    cds[:, calib.dead] = 0.0
    if instrument == "AIRS-CH0":
        cds = cds[:, :, AIRS_SCIENCE_COLUMNS]
    white = cds.sum(axis=(1, 2))
    window = int(SCATTER_WINDOW_S / (PAIR_PERIOD_S[instrument] * cadence))
    p = instrument
    stats = {
        f"{p} counts per pair": float(np.median(white)),
        f"{p} pair scatter ppm": _relative_scatter_ppm(white, window),
        f"{p} raw min": float(raw.min()),
        f"{p} raw max": float(raw.max()),
    }
    if instrument == "AIRS-CH0":
        columns = cds.sum(axis=1)
        stats["AIRS-CH0 column scatter ppm"] = float(
            np.median(
                [_relative_scatter_ppm(columns[:, c], window) for c in range(columns.shape[1])]
            )
        )
    return stats


def measure_calibration(frames: list[CalibrationFrames], instrument: str) -> dict[str, float]:
    """Statistics of the calibration frames of one instrument, pixels pooled over ``frames``.

    Hot pixels are found frame by frame (5-sigma clip of each dark, as the chain does);
    flat spread and percentiles are those of the live pixels.
    """
    dark = np.stack([f.dark for f in frames])
    dead = np.stack([f.dead for f in frames])
    flat = np.stack([f.flat for f in frames])
    read = np.stack([f.read for f in frames])
    hot = np.stack([hot_pixels(f.dark, sigma=5.0) for f in frames])
    live_flat = flat[~dead]
    low, high = np.percentile(live_flat, [1, 99])
    p = instrument
    stats = {
        f"{p} dark median": float(np.median(dark)),
        f"{p} hot fraction": float(hot.mean()),
        f"{p} dead fraction": float(dead.mean()),
        f"{p} flat median": float(np.median(flat)),
        f"{p} live flat std": float(live_flat.std()),
        f"{p} live flat p1": float(low),
        f"{p} live flat p99": float(high),
        f"{p} live flat p99 - p1": float(high - low),
        f"{p} read median": float(np.median(read)),
        f"{p} read p99 / median": float(np.percentile(read, 99) / np.median(read)),
    }
    if instrument == "AIRS-CH0":  # FGS1's hot pixels (1.1 %) fill its top 1 %
        stats["AIRS-CH0 dark p99 / median"] = float(np.percentile(dark, 99) / np.median(dark))
    for power in range(frames[0].linear_corr.shape[0]):
        coeffs = np.stack([f.linear_corr[power] for f in frames])
        stats[f"{p} linear_corr c{power} median"] = float(np.median(coeffs))
    return stats


def measure_root(root: str | Path, split: str = "train", cadence: int = 1) -> dict[str, float]:
    """Every statistic of the planets of ``split`` (visit 0): the median over planets of the
    signal statistics, and the calibration statistics of the frames read back from disk,
    pooled over planets."""
    signal: list[dict[str, float]] = []
    frames: dict[str, list[CalibrationFrames]] = {instrument: [] for instrument in INSTRUMENTS}
    for planet_id in discover_planets(root, split):
        stats: dict[str, float] = {}
        for instrument in INSTRUMENTS:
            folder = calibration_dir(root, split, planet_id, instrument, 0)
            calib = read_calibration(folder, instrument)
            frames[instrument].append(calib)
            stats.update(measure_signal(root, split, planet_id, calib, instrument, 0, cadence))
        signal.append(stats)
    measured = {key: float(np.median([s[key] for s in signal])) for key in signal[0]}
    for instrument, calibs in frames.items():
        measured.update(measure_calibration(calibs, instrument))
    return measured
