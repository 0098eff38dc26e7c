"""The competition score, error statistics and baseline helpers against hand-computed values.

The weight and ideal sigmas are written out here from the competition's metric, not
imported, so a changed constant in the library fails these tests instead of moving their
expectations with it.
"""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.evaluation.baselines import SIGMA_GRID, best_constant_sigma, depth_scale
from spectramind.evaluation.metrics import (
    InvalidPrediction,
    competition_score,
    error_summary,
    gaussian_log_likelihood,
    naive_reference,
    planet_scores,
    rmse_over_floor,
)

MEAN, STD = 0.02, 0.01
FGS1_WEIGHT = 0.4 / 1.95 * 282  # the metric: FGS1 is 0.4 / 1.95 of the score, 282 AIRS bins
IDEAL_FGS1, IDEAL_AIRS = 1e-6, 1e-5


def log_n(y, m, s):
    return -0.5 * np.log(2 * np.pi) - np.log(s) - 0.5 * ((y - m) / s) ** 2


def bin_score(y, m, s, ideal, mean=MEAN, std=STD):
    """One bin's s_pj, straight from the metric's formula."""
    reference = log_n(y, mean, std)
    return (log_n(y, m, s) - reference) / (log_n(y, y, ideal) - reference)


def ideal_sigmas(shape):
    sigma = np.full(shape, IDEAL_AIRS)
    sigma[:, 0] = IDEAL_FGS1
    return sigma


def test_log_likelihood_by_hand():
    # log N(1 | 0, 2) = -0.5 log(2 pi) - log 2 - 1/8
    expected = -0.5 * np.log(2 * np.pi) - np.log(2.0) - 0.125
    assert gaussian_log_likelihood(np.array(1.0), 0.0, 2.0) == pytest.approx(expected, rel=1e-12)


def test_naive_reference_pools_every_training_depth():
    """Mean and population std of all values, not per bin: 0.025 and sqrt(1.25e-4)."""
    mean, std = naive_reference(np.array([[0.01, 0.03], [0.02, 0.04]]))
    assert mean == pytest.approx(0.025)
    assert std == pytest.approx(np.sqrt(1.25e-4))


def test_perfect_prediction_scores_one_only_with_the_ideal_sigmas():
    """Unclipped, so a wrong ideal sigma (or the FGS1 one on another bin) cannot hide."""
    truth = np.random.default_rng(0).uniform(0.005, 0.04, (3, 283))
    sigma = ideal_sigmas(truth.shape)
    raw = competition_score(truth, truth, sigma, MEAN, STD, clip=False)
    assert raw == pytest.approx(1.0, abs=1e-12)
    # Twice as sharp as ideal: each bin gains log 2 over L_ideal - L_ref; above 1, clipped to 1.
    sharp = competition_score(truth, truth, sigma / 2, MEAN, STD, clip=False)
    per_bin = 1 + np.log(2) / (log_n(truth, truth, sigma) - log_n(truth, MEAN, STD))
    weights = np.r_[FGS1_WEIGHT, np.ones(282)]
    assert sharp == pytest.approx(np.sum(per_bin * weights) / (3 * weights.sum()), rel=1e-6)
    assert sharp > 1 and competition_score(truth, truth, sigma / 2, MEAN, STD) == 1.0


def test_two_bin_score_by_hand():
    """One planet, an FGS1 and one AIRS bin, computed step by step."""
    truth = np.array([[0.0200, 0.0210]])
    mu = np.array([[0.0201, 0.0209]])
    sigma = np.array([[1e-4, 2e-4]])
    s_fgs1 = bin_score(0.02, 0.0201, 1e-4, IDEAL_FGS1)
    s_airs = bin_score(0.021, 0.0209, 2e-4, IDEAL_AIRS)
    expected = (FGS1_WEIGHT * s_fgs1 + s_airs) / (FGS1_WEIGHT + 1)
    assert competition_score(truth, mu, sigma, MEAN, STD) == pytest.approx(expected, rel=1e-6)


def test_planet_scores_are_the_metric_on_each_planet_alone_before_the_clip():
    """Planet 0 by hand (two bins, the metric's weights); planet 1 confidently wrong, far
    below 0 where the competition score clips; their mean is the unclipped score."""
    truth = np.array([[0.0200, 0.0210], [0.0200, 0.0210]])
    mu = np.array([[0.0201, 0.0209], [0.0300, 0.0100]])
    sigma = np.array([[1e-4, 2e-4], [1e-5, 1e-5]])
    scores = planet_scores(truth, mu, sigma, MEAN, STD)
    s_fgs1 = bin_score(0.02, 0.0201, 1e-4, IDEAL_FGS1)
    s_airs = bin_score(0.021, 0.0209, 2e-4, IDEAL_AIRS)
    assert scores[0] == pytest.approx((FGS1_WEIGHT * s_fgs1 + s_airs) / (FGS1_WEIGHT + 1))
    alone = competition_score(truth[1:], mu[1:], sigma[1:], MEAN, STD, clip=False)
    assert scores[1] == pytest.approx(alone) and scores[1] < -100
    assert competition_score(truth[1:], mu[1:], sigma[1:], MEAN, STD) == 0.0
    everything = competition_score(truth, mu, sigma, MEAN, STD, clip=False)
    assert scores.mean() == pytest.approx(everything)


def test_fgs1_weight_measured_by_moving_only_bin_zero():
    """Spoil only bin 0 of a perfect prediction: score = (w s0 + 282) / (w + 282), solved
    for w; spoiling one AIRS bin the same way costs w times less."""
    truth = np.full((2, 283), 0.02)
    sigma = ideal_sigmas(truth.shape)
    mu = truth.copy()
    mu[:, 0] += 3e-6
    s0 = bin_score(0.02, 0.02 + 3e-6, IDEAL_FGS1, IDEAL_FGS1)
    score = competition_score(truth, mu, sigma, MEAN, STD, clip=False)
    weight = 282 * (1 - score) / (score - s0)
    assert weight == pytest.approx(57.846, rel=1e-4)
    airs = truth.copy()
    airs[:, 7] += 3e-5  # the same 3-sigma miss in AIRS units
    airs_loss = 1 - competition_score(truth, airs, sigma, MEAN, STD, clip=False)
    s7 = bin_score(0.02, 0.02 + 3e-5, IDEAL_AIRS, IDEAL_AIRS)
    assert (1 - score) / airs_loss == pytest.approx(FGS1_WEIGHT * (1 - s0) / (1 - s7), rel=1e-4)


def test_naive_scores_zero_and_a_worse_prediction_scores_below_it():
    truth = np.array([[0.025, 0.03, 0.01]])
    naive = competition_score(truth, np.full_like(truth, MEAN), np.full_like(truth, STD),
                              MEAN, STD, clip=False)  # fmt: skip
    assert naive == pytest.approx(0.0, abs=1e-12)
    # The naive mean with a 10x overconfident sigma (5 to 10 sigma misses): below naive.
    mu, sigma = np.full_like(truth, MEAN), np.full_like(truth, STD / 10)
    ideal = np.array([IDEAL_FGS1, IDEAL_AIRS, IDEAL_AIRS])
    per_bin = bin_score(truth[0], MEAN, STD / 10, ideal)
    expected = np.sum(np.r_[FGS1_WEIGHT, 1, 1] * per_bin) / (FGS1_WEIGHT + 2)
    raw = competition_score(truth, mu, sigma, MEAN, STD, clip=False)
    assert raw == pytest.approx(expected, rel=1e-6)
    assert raw < 0
    assert competition_score(truth, mu, sigma, MEAN, STD) == 0.0


def test_overconfidence_is_punished_and_honesty_rewarded():
    """A 1e-3 miss with sigma 1e-6 is a 1000-sigma miss (unclipped ~ -1e5 by hand); the
    same miss with sigma 1e-3 beats the naive prediction."""
    truth = np.full((2, 283), 0.02)
    wrong = truth + 1e-3
    weights = np.r_[FGS1_WEIGHT, np.ones(282)]
    ideal = np.r_[IDEAL_FGS1, np.full(282, IDEAL_AIRS)]
    raw = {}
    for sigma in (1e-6, 1e-3):
        per_bin = bin_score(0.02, 0.021, sigma, ideal)
        expected = np.sum(weights * per_bin) / weights.sum()
        raw[sigma] = competition_score(truth, wrong, np.full_like(truth, sigma), MEAN, STD,
                                       clip=False)  # fmt: skip
        assert raw[sigma] == pytest.approx(expected, rel=1e-6)
    assert raw[1e-6] < -1e4 and raw[1e-3] > 0


def test_zero_sigma_is_floored_not_infinite():
    """sigma 0 counts as 1e-15: a perfect mean then scores log(ideal / 1e-15) above ideal."""
    truth = np.array([[0.02, 0.02]])
    raw = competition_score(truth, truth, np.zeros_like(truth), MEAN, STD, clip=False)
    per_bin = bin_score(0.02, 0.02, 1e-15, np.array([IDEAL_FGS1, IDEAL_AIRS]))
    assert raw == pytest.approx(np.sum(np.r_[FGS1_WEIGHT, 1] * per_bin) / (FGS1_WEIGHT + 1))


@pytest.mark.parametrize("bad", ["mu", "sigma"])
def test_negative_values_reject_the_submission(bad):
    truth = np.full((1, 283), 0.02)
    mu, sigma = truth.copy(), np.full_like(truth, 1e-4)
    {"mu": mu, "sigma": sigma}[bad][0, 5] = -1e-6
    with pytest.raises(InvalidPrediction, match=f"{bad} has negative values"):
        competition_score(truth, mu, sigma, MEAN, STD)


def test_error_summary_by_hand():
    truth = np.zeros((2, 2))
    mu = np.array([[1.0, -1.0], [3.0, 0.0]])
    sigma = np.full((2, 2), 1.5)
    summary = error_summary(truth, mu, sigma, noise_floor=np.full((2, 2), 0.5))
    assert summary.rmse == pytest.approx(np.sqrt((1 + 1 + 9 + 0) / 4))
    assert summary.bias == pytest.approx(0.75)
    assert summary.coverage_68 == pytest.approx(0.75)  # |1|, |-1|, |0| within 1.5 x 0.9945
    assert summary.coverage_95 == pytest.approx(0.75)  # 3 > 1.96 x 1.5
    np.testing.assert_allclose(summary.rmse_per_bin, [np.sqrt(5), np.sqrt(0.5)])
    np.testing.assert_allclose(summary.bias_per_bin, [2.0, -0.5])
    assert summary.rmse_over_noise_floor == pytest.approx(summary.rmse / 0.5)
    # Interval edges: |z| = 1.0 is outside the 68 % interval (half-width 0.9945 sigma).
    edge = error_summary(np.zeros((1, 2)), np.array([[0.99, 1.0]]), np.ones((1, 2)))
    assert edge.coverage_68 == pytest.approx(0.5)


def test_best_constant_sigma_is_the_rms_error():
    """With one sigma for every bin, the score is highest where sigma^2 is the score-weighted
    mean squared error: the grid value picked is within one grid step of it."""
    rng = np.random.default_rng(2)
    truth = rng.uniform(0.01, 0.03, (40, 283))
    depths = truth.mean(axis=1) + rng.normal(0, 4e-4, 40)
    errors = depths[:, None] - truth
    weights = np.r_[FGS1_WEIGHT, np.ones(282)]
    optimum = np.sqrt(np.sum(weights * errors**2) / (40 * weights.sum()))
    step = SIGMA_GRID[1] / SIGMA_GRID[0]
    assert 1 / step < best_constant_sigma(truth, depths) / optimum < step


def test_depth_scale_is_the_median_ratio():
    truth = np.array([[0.02, 0.02], [0.03, 0.03], [0.01, 0.01]])
    dips = np.array([0.018, 0.025, 0.0095])
    assert depth_scale(truth, dips) == pytest.approx(0.02 / 0.018)


def test_rmse_over_floor_leaves_out_planets_without_a_floor():
    """A planet with no transit in its visits has an infinite Cramer-Rao floor: it is left
    out of the ratio (which would otherwise read 0, a perfect predictor)."""
    error = np.array([[2.0, 2.0], [1.0, 1.0], [50.0, 50.0]])
    floor = np.array([[1.0, 1.0], [1.0, 1.0], [np.inf, np.inf]])
    expected = np.sqrt(np.mean(error[:2] ** 2)) / 1.0
    assert rmse_over_floor(error, floor) == pytest.approx(expected)
    assert rmse_over_floor(error[:2], floor[:2]) == pytest.approx(expected)
    assert np.isnan(rmse_over_floor(error[2:], floor[2:]))
