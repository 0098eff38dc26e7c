"""The physics fit's building blocks against independent computations: the arrowhead
solve against dense least squares, the limb-darkening smoothing and prior against known
truths, and the white light's per-instrument time axes."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.fit.limb_darkening import (
    LimbDarkeningPrior,
    learn_limb_darkening_prior,
    smooth_in_wavelength,
)
from spectramind.fit.spectrum import _Design, _solve


def test_arrowhead_solve_equals_dense_least_squares():
    """Per-channel local columns + shared columns: the Schur-complement solution and the
    depth covariance (diagonal + low rank) equal a dense solve of the whole system."""
    rng = np.random.default_rng(0)
    n_channels, n_rows, n_local, n_shared = 7, 40, 3, 4
    local = rng.normal(size=(n_channels, n_rows, n_local))
    shared = rng.normal(size=(n_channels, n_rows, n_shared))
    target = rng.normal(size=(n_channels, n_rows))
    solution = _solve(_Design(local, shared, target))

    dense = np.zeros((n_channels * n_rows, n_channels * n_local + n_shared))
    for c in range(n_channels):
        rows = slice(c * n_rows, (c + 1) * n_rows)
        dense[rows, c * n_local : (c + 1) * n_local] = local[c]
        dense[rows, n_channels * n_local :] = shared[c]
    coeffs, *_ = np.linalg.lstsq(dense, target.ravel(), rcond=None)
    np.testing.assert_allclose(solution.local.ravel(), coeffs[: n_channels * n_local], atol=1e-10)
    np.testing.assert_allclose(solution.shared, coeffs[n_channels * n_local :], atol=1e-10)
    covariance = np.linalg.inv(dense.T @ dense)
    depth = np.arange(n_channels) * n_local + n_local - 1
    expected = covariance[np.ix_(depth, depth)]
    factor = solution.depth_factor
    np.testing.assert_allclose(np.diag(solution.depth_variance) + factor @ factor.T, expected,
                               atol=1e-12)  # fmt: skip
    residual = target.ravel() - dense @ coeffs
    np.testing.assert_allclose(solution.chi2.sum(), residual @ residual, rtol=1e-10)


def test_smoothing_keeps_the_u1_u2_correlation():
    """Group values drawn around a straight line in wavelength with a strong u1-u2
    anti-correlation: the generalised least squares recovers the line without bias, and its
    error factor states the scatter of the recovered values over 300 draws (within 12 %)."""
    rng = np.random.default_rng(1)
    centres = np.linspace(2.0, 3.8, 12)
    truth = np.array([0.4 - 0.08 * centres, 0.1 + 0.01 * centres])  # (2, groups)
    covariance = np.array([[0.04, -0.036], [-0.036, 0.04]])  # correlation -0.9
    root = np.linalg.cholesky(covariance)
    wavelength = np.array([2.0, 2.9, 3.8])
    estimates, factors = [], None
    for _ in range(300):
        values = truth.T + rng.normal(size=(12, 2)) @ root.T
        u, factors = smooth_in_wavelength(
            centres, values, np.repeat(covariance[None], 12, axis=0), wavelength, 1
        )
        estimates.append(u)
    scatter = np.std(np.array(estimates), axis=0)  # (2, 3)
    stated = np.sqrt(np.sum(factors**2, axis=2))
    np.testing.assert_allclose(scatter, stated, rtol=0.12)
    expected = np.array([0.4 - 0.08 * wavelength, 0.1 + 0.01 * wavelength])
    bias = np.abs(np.mean(estimates, axis=0) - expected)
    assert (bias < 3 * stated / np.sqrt(300)).all(), bias


def test_limb_darkening_prior_recovers_a_known_law():
    """Samples from u1 = 0.3 - 0.1 ln(wl) - 0.02 t, u2 = 0.2 - 0.05 ln(wl) with 0.02
    intrinsic scatter plus measurement noise of known sigma (0.005-0.05): the learned prior
    predicts the law to 0.01 and its sigma is the intrinsic scatter alone (within 20 %);
    to_dict / from_dict round-trips exactly; a wrong shape is refused."""
    rng = np.random.default_rng(2)
    wavelength = rng.uniform(0.6, 4.0, 600)
    t_eff = rng.uniform(4000, 7000, 600)
    x, t = np.log(wavelength), (t_eff - 5800) / 1000
    u = np.column_stack([0.3 - 0.1 * x - 0.02 * t, 0.2 - 0.05 * x])
    measurement = rng.uniform(0.005, 0.05, u.shape)
    u_noisy = u + rng.normal(0, 0.02, u.shape) + rng.normal(size=u.shape) * measurement
    prior = learn_limb_darkening_prior(wavelength, t_eff, u_noisy, measurement)
    grid = np.array([0.7, 2.0, 3.5])
    law = np.array([0.3 - 0.1 * np.log(grid) - 0.02 * 0.5, 0.2 - 0.05 * np.log(grid)])
    np.testing.assert_allclose(prior.evaluate(grid, 6300.0), law, atol=0.01)
    np.testing.assert_allclose(prior.sigma, 0.02, rtol=0.2)
    again = LimbDarkeningPrior.from_dict(prior.to_dict())
    np.testing.assert_array_equal(again.coefficients, prior.coefficients)
    broken = prior.to_dict() | {"coefficients": [[0.1, 0.2]]}
    with pytest.raises(ValueError, match="coefficients"):
        LimbDarkeningPrior.from_dict(broken)
