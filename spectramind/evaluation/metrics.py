"""The competition score and the error statistics every stage is judged by.

Score (the competition's metric, per planet p and bin j):
    L_pred  = log N(y | mu, sigma)          sigma clipped below at 1e-15
    L_ideal = log N(y | y, s_ideal)         s_ideal 1e-6 for FGS1 (bin 1), 1e-5 for AIRS
    L_ref   = log N(y | naive_mean, naive_sigma), mean and std of all training targets
    s_pj    = (L_pred - L_ref) / (L_ideal - L_ref)
    score   = weighted mean of s_pj (FGS1 weight 57.846 = 0.4 / 1.95 * 282, AIRS 1),
              clipped to [0, 1]; any negative mu or sigma rejects the submission.
    planet score = the weighted mean over one planet's bins, unclipped (``planet_scores``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.io.layout import N_TARGETS

SIGMA_FLOOR = 1e-15
IDEAL_SIGMA_FGS1 = 1e-6
IDEAL_SIGMA_AIRS = 1e-5
FGS1_WEIGHT = 57.846
HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


class InvalidPrediction(ValueError):
    """A prediction the competition would reject (negative mean or sigma, wrong shape)."""


def gaussian_log_likelihood(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Element-wise log N(y | mu, sigma)."""
    sigma = np.asarray(sigma, dtype=np.float64)
    return -HALF_LOG_2PI - np.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2


def naive_reference(train_depths: np.ndarray) -> tuple[float, float]:
    """The score's zero point: mean and standard deviation of all training depths."""
    return float(np.mean(train_depths)), float(np.std(train_depths))


def bin_weights(n_bins: int = N_TARGETS) -> np.ndarray:
    """Score weight of each bin: FGS1 first, then the AIRS bins."""
    weights = np.ones(n_bins)
    weights[0] = FGS1_WEIGHT
    return weights


def _check(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, submittable: bool = True) -> None:
    """Same (planets, bins) shapes and finite values; negatives only matter for the score."""
    if truth.shape != mu.shape or truth.shape != sigma.shape or truth.ndim != 2:
        raise InvalidPrediction(
            f"shapes differ: truth {truth.shape}, mu {mu.shape}, sigma {sigma.shape}"
        )
    for name, values in (("mu", mu), ("sigma", sigma)):
        if not np.isfinite(values).all():
            raise InvalidPrediction(f"{name} has NaN or infinite values")
        if (submittable or name == "sigma") and (values < 0).any():
            raise InvalidPrediction(f"{name} has negative values: the submission is rejected")


def bin_scores(
    truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, naive_mean: float, naive_sigma: float
) -> np.ndarray:
    """The score's terms s_pj (planets, bins) of predictions (planets, 283), before weighting.

    Bin 0 is FGS1 (its own ideal sigma), so a column slice without bin 0 cannot go through
    ``competition_score``; the score of a subset of bins is the mean of its terms here.
    """
    truth, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (truth, mu, sigma))
    _check(truth, mu, sigma)
    ideal_sigma = np.full(truth.shape[1], IDEAL_SIGMA_AIRS)
    ideal_sigma[0] = IDEAL_SIGMA_FGS1
    l_pred = gaussian_log_likelihood(truth, mu, np.maximum(sigma, SIGMA_FLOOR))
    l_ideal = gaussian_log_likelihood(truth, truth, np.broadcast_to(ideal_sigma, truth.shape))
    l_ref = gaussian_log_likelihood(truth, naive_mean, naive_sigma)
    return (l_pred - l_ref) / (l_ideal - l_ref)


def competition_score(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    naive_mean: float,
    naive_sigma: float,
    clip: bool = True,
) -> float:
    """The competition score of predictions (planets, 283) against the true depths.

    ``clip=False`` returns the value before the final clip to [0, 1], to tell apart methods
    that all score 0 (worse than the naive prediction by different margins).
    """
    per_bin = bin_scores(truth, mu, sigma, naive_mean, naive_sigma)
    weights = np.broadcast_to(bin_weights(per_bin.shape[1]), per_bin.shape)
    score = float(np.sum(weights * per_bin) / np.sum(weights))
    return float(np.clip(score, 0.0, 1.0)) if clip else score


def planet_scores(
    truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, naive_mean: float, naive_sigma: float
) -> np.ndarray:
    """Each planet's score (planets,): ``competition_score`` of that planet alone, before
    the clip, so a confidently wrong planet shows how far below 0 it drags the mean. The
    planets' mean is the unclipped score of them all (every planet has the same weight)."""
    per_bin = bin_scores(truth, mu, sigma, naive_mean, naive_sigma)
    weights = bin_weights(per_bin.shape[1])
    return per_bin @ weights / weights.sum()


@dataclass(frozen=True)
class ErrorSummary:
    """Error statistics of depth predictions: overall and per bin (283)."""

    rmse: float
    bias: float
    coverage_68: float
    coverage_95: float
    rmse_per_bin: np.ndarray
    bias_per_bin: np.ndarray
    rmse_over_noise_floor: float | None

    def as_dict(self) -> dict[str, float | None | list[float]]:
        return {
            "rmse": self.rmse,
            "bias": self.bias,
            "coverage_68": self.coverage_68,
            "coverage_95": self.coverage_95,
            "rmse_over_noise_floor": self.rmse_over_noise_floor,
            "rmse_per_bin": self.rmse_per_bin.tolist(),
            "bias_per_bin": self.bias_per_bin.tolist(),
        }


def rmse_over_floor(error: np.ndarray, floor: np.ndarray) -> float:
    """RMSE relative to a Cramer-Rao floor: the ratio of root-mean-squares over all planets
    and bins that have one. A bin whose floor is infinite (a planet without a transit in its
    visits: the data bound nothing) is left out of both, not counted as a perfect ratio of 0;
    NaN if no bin has a finite floor."""
    error, floor = np.broadcast_arrays(np.asarray(error, float), np.asarray(floor, float))
    finite = np.isfinite(floor)
    if not finite.any():
        return float("nan")
    error, floor = error[finite], floor[finite]
    return float(np.sqrt(np.mean(np.square(error))) / np.sqrt(np.mean(np.square(floor))))


def error_summary(
    truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray, noise_floor: np.ndarray | None = None
) -> ErrorSummary:
    """RMSE, bias, coverage of the 68 % / 95 % intervals, and RMSE relative to the
    Cramer-Rao floor (ratio of root-mean-squares over all planets and bins)."""
    truth, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (truth, mu, sigma))
    _check(truth, mu, sigma, submittable=False)
    error = mu - truth
    z = np.abs(error) / np.maximum(sigma, SIGMA_FLOOR)
    ratio = None if noise_floor is None else rmse_over_floor(error, noise_floor)
    return ErrorSummary(
        rmse=float(np.sqrt(np.mean(error**2))),
        bias=float(np.mean(error)),
        coverage_68=float(np.mean(z <= 0.994457883)),
        coverage_95=float(np.mean(z <= 1.959963985)),
        rmse_per_bin=np.sqrt(np.mean(error**2, axis=0)),
        bias_per_bin=np.mean(error, axis=0),
        rmse_over_noise_floor=ratio,
    )
