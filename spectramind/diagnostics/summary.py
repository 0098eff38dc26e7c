"""Error tables of depth predictions (planets, 283) against the true depths: overall, per
instrument (bin 0 is FGS1, bins 1..282 AIRS-CH0) and per bin.

Depths are fractions ((Rp/Rs)^2); columns and keys ending in ``_ppm`` are in parts per
million. Coverage is the fraction of true depths inside the central Gaussian interval
mu +/- z sigma of a nominal level (z = 0.994 for 68 %, 1.960 for 95 %).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from spectramind.evaluation.metrics import (
    SIGMA_FLOOR,
    bin_scores,
    competition_score,
    error_summary,
    rmse_over_floor,
)
from spectramind.io.layout import INSTRUMENTS

PPM = 1e6
# Bins of each group of the tables: bin 0 is the FGS1 white light, 1..282 the AIRS columns.
INSTRUMENT_BINS = {"all": slice(None), INSTRUMENTS[0]: slice(0, 1), INSTRUMENTS[1]: slice(1, None)}


def bin_instruments(n_bins: int) -> np.ndarray:
    """The instrument of each bin: FGS1 for bin 0, AIRS-CH0 for the rest."""
    return np.array([INSTRUMENTS[0]] + [INSTRUMENTS[1]] * (n_bins - 1))


def normalised_residual(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """(mu - truth) / sigma, sigma clipped below as the score clips it."""
    return (np.asarray(mu) - np.asarray(truth)) / np.maximum(sigma, SIGMA_FLOOR)


def interval_half_width(level: float | np.ndarray) -> np.ndarray:
    """Half-width in sigmas of the central Gaussian interval holding ``level`` of it."""
    return ndtri(0.5 + 0.5 * np.asarray(level, dtype=np.float64))


def observed_coverage(
    z: np.ndarray, levels: float | np.ndarray, axis: int | None = None
) -> np.ndarray:
    """Fraction of normalised residuals ``z`` inside the central interval of each nominal
    level, over ``axis`` of z (all of it by default); the first axis runs over the levels."""
    half_widths = interval_half_width(np.atleast_1d(levels))
    return np.stack([np.mean(np.abs(z) <= width, axis=axis) for width in half_widths])


def _instrument_errors(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    depth_only_floor: np.ndarray | None,
    marginalised_floor: np.ndarray | None,
) -> dict[str, Any]:
    """Error statistics of one group of bins (columns already selected)."""
    summary = error_summary(truth, mu, sigma)
    error = mu - truth
    mae = float(np.mean(np.abs(error)))

    def over(floor: np.ndarray | None) -> float | None:
        return None if floor is None else rmse_over_floor(error, floor)

    return {
        "n_bins": int(truth.shape[1]),
        "mae": mae,
        "rmse": summary.rmse,
        "bias": summary.bias,
        "mae_ppm": mae * PPM,
        "rmse_ppm": summary.rmse * PPM,
        "bias_ppm": summary.bias * PPM,
        "mean_sigma_ppm": float(np.mean(sigma)) * PPM,
        "coverage_68": summary.coverage_68,
        "coverage_95": summary.coverage_95,
        "rmse_over_depth_only_floor": over(depth_only_floor),
        "rmse_over_marginalised_floor": over(marginalised_floor),
    }


def error_summary_table(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    naive: tuple[float, float],
    depth_only_floor: np.ndarray | None = None,
    marginalised_floor: np.ndarray | None = None,
) -> dict[str, Any]:
    """JSON-ready error statistics of predictions (planets, 283): for all bins, FGS1 and
    AIRS-CH0, the competition score (clipped to [0, 1] and unclipped), MAE, RMSE, bias and
    mean sigma (depth units and ppm), coverage 68/95 and RMSE over each Cramer-Rao floor
    (planets, 283; ratio of root-mean-squares, None when the floor is not given).

    The score of "all" is the competition score; that of an instrument is the mean of its
    bins' score terms (the same formula restricted to its bins). ``naive`` is the score's
    reference (mean, std) of the training depths.
    """
    truth, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (truth, mu, sigma))
    naive_mean, naive_sigma = naive
    terms = bin_scores(truth, mu, sigma, naive_mean, naive_sigma)
    table: dict[str, Any] = {"n_planets": int(truth.shape[0]), "naive_mean": naive_mean,
                             "naive_sigma": naive_sigma}  # fmt: skip
    for group, bins in INSTRUMENT_BINS.items():
        unclipped = (
            competition_score(truth, mu, sigma, naive_mean, naive_sigma, clip=False)
            if group == "all"
            else float(np.mean(terms[:, bins]))
        )
        floors = [None if f is None else np.asarray(f)[:, bins]
                  for f in (depth_only_floor, marginalised_floor)]  # fmt: skip
        table[group] = {
            "score": float(np.clip(unclipped, 0.0, 1.0)),
            "score_unclipped": unclipped,
            **_instrument_errors(truth[:, bins], mu[:, bins], sigma[:, bins], *floors),
        }
    return table


def _rms_over_planets(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(values), axis=0))


def per_bin_table(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    wavelength_um: np.ndarray,
    depth_only_floor: np.ndarray | None = None,
    marginalised_floor: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per bin: instrument, wavelength, RMSE, bias and mean sigma over the planets
    (ppm), coverage 68/95, and the root-mean-square of each Cramer-Rao floor (ppm) when
    given, to read the RMSE against."""
    truth, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (truth, mu, sigma))
    summary = error_summary(truth, mu, sigma)
    coverage = observed_coverage(normalised_residual(truth, mu, sigma), [0.68, 0.95], axis=0)
    table = pd.DataFrame(
        {
            "bin": np.arange(truth.shape[1]),
            "instrument": bin_instruments(truth.shape[1]),
            "wavelength_um": np.asarray(wavelength_um, dtype=np.float64),
            "rmse_ppm": summary.rmse_per_bin * PPM,
            "bias_ppm": summary.bias_per_bin * PPM,
            "mean_sigma_ppm": np.mean(sigma, axis=0) * PPM,
            "coverage_68": coverage[0],
            "coverage_95": coverage[1],
        }
    )
    for name, floor in (("depth_only", depth_only_floor), ("marginalised", marginalised_floor)):
        if floor is not None:
            table[f"{name}_floor_ppm"] = _rms_over_planets(np.asarray(floor)) * PPM
    return table
