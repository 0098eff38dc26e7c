"""The competition score and error statistics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.evaluation.metrics import (
    FGS1_WEIGHT,
    InvalidPrediction,
    competition_score,
    error_summary,
    gaussian_log_likelihood,
)

MEAN, STD = 0.02, 0.01


def test_log_likelihood_by_hand():
    # log N(1 | 0, 2) = -0.5 log(2 pi) - log 2 - 1/8
    expected = -0.5 * np.log(2 * np.pi) - np.log(2.0) - 0.125
    assert gaussian_log_likelihood(np.array(1.0), 0.0, 2.0) == pytest.approx(expected)


def test_perfect_prediction_with_ideal_sigmas_scores_one():
    truth = np.full((3, 283), 0.021)
    sigma = np.full((3, 283), 1e-5)
    sigma[:, 0] = 1e-6
    assert competition_score(truth, truth, sigma, MEAN, STD) == pytest.approx(1.0)


def test_naive_prediction_scores_zero():
    truth = np.random.default_rng(0).normal(MEAN, STD, (4, 283)).clip(0.001)
    mu, sigma = np.full_like(truth, MEAN), np.full_like(truth, STD)
    assert competition_score(truth, mu, sigma, MEAN, STD) == pytest.approx(0.0)


def test_two_bin_score_by_hand():
    """One planet, an FGS1 and one AIRS bin, computed step by step."""
    truth = np.array([[0.0200, 0.0210]])
    mu = np.array([[0.0201, 0.0209]])
    sigma = np.array([[1e-4, 2e-4]])

    def log_n(y, m, s):
        return -0.5 * np.log(2 * np.pi) - np.log(s) - 0.5 * ((y - m) / s) ** 2

    s_fgs1 = (log_n(0.02, 0.0201, 1e-4) - log_n(0.02, MEAN, STD)) / (
        log_n(0.02, 0.02, 1e-6) - log_n(0.02, MEAN, STD)
    )
    s_airs = (log_n(0.021, 0.0209, 2e-4) - log_n(0.021, MEAN, STD)) / (
        log_n(0.021, 0.021, 1e-5) - log_n(0.021, MEAN, STD)
    )
    expected = (FGS1_WEIGHT * s_fgs1 + s_airs) / (FGS1_WEIGHT + 1)
    assert competition_score(truth, mu, sigma, MEAN, STD) == pytest.approx(expected)
    assert 0 < expected < 1


def test_score_is_clipped_and_overconfidence_is_punished():
    truth = np.full((2, 283), 0.02)
    wrong = truth + 1e-3
    assert competition_score(truth, wrong, np.full_like(truth, 1e-6), MEAN, STD) == 0.0
    raw = competition_score(truth, wrong, np.full_like(truth, 1e-6), MEAN, STD, clip=False)
    assert raw < -100  # 1000-sigma misses
    honest = competition_score(truth, wrong, np.full_like(truth, 1e-3), MEAN, STD)
    assert honest > 0.0


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
    assert summary.rmse_over_noise_floor == pytest.approx(summary.rmse / 0.5)
