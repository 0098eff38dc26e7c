"""Measure a raw root the way FORMAT.md's real figures were measured, to compare with them.

Signal levels use a minimal chain (ADC, linearity, CDS, sum over the science pixels);
scatter is the rms of the white light around a 10-minute running median, so transit and
drift do not count but pointing jitter does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

from spectramind.calibrate.pixels import hot_pixels
from spectramind.io import (
    calibration_dir,
    discover_planets,
    read_adc_info,
    read_axis_info,
    read_calibration,
    read_signal,
    signal_path,
)
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, PAIR_PERIOD_S
from spectramind.simulate.constants import (
    REAL_COUNTS_PER_PAIR,
    REAL_DARK_MEDIAN,
    REAL_DEAD_FRACTION,
    REAL_FLAT_MEDIAN,
    REAL_HOT_FRACTION,
    REAL_LINEAR_CORR_MEDIANS,
    REAL_PAIR_SCATTER_PPM,
    REAL_RAW_RANGE,
    REAL_READ_MEDIAN,
)

SCATTER_WINDOW_S = 600.0
REAL_AIRS_COLUMN_SCATTER_PPM = 5000.0


def real_statistics() -> dict[str, float]:
    """The real-data figures of FORMAT.md, keyed like ``measure_visit``'s output."""
    stats: dict[str, float] = {}
    for instrument in ("FGS1", "AIRS-CH0"):
        stats[f"{instrument} counts per pair"] = REAL_COUNTS_PER_PAIR[instrument]
        stats[f"{instrument} pair scatter ppm"] = REAL_PAIR_SCATTER_PPM[instrument]
        stats[f"{instrument} raw min"] = REAL_RAW_RANGE[instrument][0]
        stats[f"{instrument} raw max"] = REAL_RAW_RANGE[instrument][1]
        stats[f"{instrument} dark median"] = REAL_DARK_MEDIAN
        stats[f"{instrument} read median"] = REAL_READ_MEDIAN
        stats[f"{instrument} flat median"] = REAL_FLAT_MEDIAN
        stats[f"{instrument} dead fraction"] = REAL_DEAD_FRACTION
        stats[f"{instrument} hot fraction"] = REAL_HOT_FRACTION
        for power, median in enumerate(REAL_LINEAR_CORR_MEDIANS):
            stats[f"{instrument} linear_corr c{power} median"] = median
    stats["AIRS-CH0 column scatter ppm"] = REAL_AIRS_COLUMN_SCATTER_PPM
    return stats


def _relative_scatter_ppm(series: np.ndarray, window: int) -> float:
    """rms (ppm) of ``series`` around its running median over ``window`` samples."""
    trend = median_filter(series, size=max(3, window), mode="nearest")
    return float(np.std(series / trend - 1.0) * 1e6)


def measure_visit(
    root: str | Path, split: str, planet_id: int, instrument: str, visit: int = 0, cadence: int = 1
) -> dict[str, float]:
    """Statistics of one raw visit (signal levels, scatter, raw range, calibration frames)."""
    axis = read_axis_info(root)
    adc = read_adc_info(root)[instrument]
    raw = read_signal(
        signal_path(root, split, planet_id, instrument, visit),
        instrument,
        axis.n_frames(instrument),
    )
    calib = read_calibration(calibration_dir(root, split, planet_id, instrument, visit), instrument)
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
        f"{p} dark median": float(np.median(calib.dark)),
        f"{p} read median": float(np.median(calib.read)),
        f"{p} flat median": float(np.median(calib.flat)),
        f"{p} dead fraction": float(calib.dead.mean()),
        f"{p} hot fraction": float(hot_pixels(calib.dark, sigma=5.0).mean()),
    }
    for power in range(calib.linear_corr.shape[0]):
        stats[f"{p} linear_corr c{power} median"] = float(np.median(calib.linear_corr[power]))
    if instrument == "AIRS-CH0":
        columns = cds.sum(axis=1)
        stats["AIRS-CH0 column scatter ppm"] = float(
            np.median(
                [_relative_scatter_ppm(columns[:, c], window) for c in range(columns.shape[1])]
            )
        )
    return stats


def measure_root(root: str | Path, split: str = "train", cadence: int = 1) -> dict[str, float]:
    """Median over the planets of ``split`` of every ``measure_visit`` statistic (visit 0)."""
    per_planet = []
    for planet_id in discover_planets(root, split):
        stats: dict[str, float] = {}
        for instrument in ("FGS1", "AIRS-CH0"):
            stats.update(measure_visit(root, split, planet_id, instrument, 0, cadence))
        per_planet.append(stats)
    return {key: float(np.median([s[key] for s in per_planet])) for key in per_planet[0]}
