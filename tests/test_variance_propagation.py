"""Propagated variances equal the scatter over many noise realisations (within 10 %).

Each test draws independent noise many times, runs the real function, and compares the
mean propagated variance with the empirical variance of the result (sampling error of the
empirical variance: sqrt(2 / draws), 2.2 % here).
"""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.calibrate.kernels import accumulate_bins
from spectramind.calibrate.pixels import fill_masked_along_columns
from spectramind.extract.airs import optimal_extraction
from spectramind.extract.fgs1 import photometry
from spectramind.extract.options import ExtractionOptions

TOLERANCE = 0.10


def _ratio(propagated: np.ndarray, values: np.ndarray, axis: int = 0) -> float:
    """Mean propagated variance over the empirical variance of ``values`` along ``axis``."""
    return float(np.mean(propagated) / np.mean(values.var(axis=axis, ddof=1)))


def test_filled_pixel_variance_matches_its_scatter():
    """A pixel filled from neighbours at distances 1 and 3 has variance
    w_left^2 var_left + w_right^2 var_right (0.56 var_left + 0.06 var_right here)."""
    rng = np.random.default_rng(1)
    draws, n_cols = 4000, 8
    sigma = np.linspace(5.0, 40.0, n_cols)  # unequal neighbour variances
    values = 100.0 + sigma * rng.standard_normal((draws, 1, n_cols))
    variance = np.broadcast_to(sigma**2, values.shape).copy()
    masked = np.zeros((1, n_cols), dtype=bool)
    masked[0, 3:6] = True  # pixel 3: 1 px from pixel 2, 3 px from pixel 6
    masked[0, 7] = True  # past the last good pixel: a copy of pixel 6
    fill_masked_along_columns(values, variance, masked)
    for column in (3, 4, 5, 7):
        ratio = _ratio(variance[:, 0, column], values[:, 0, column])
        assert ratio == pytest.approx(1.0, abs=TOLERANCE), (column, ratio)


def _cosmic_stream(rng: np.random.Generator, hit_pair: int, shape: tuple[int, int]) -> np.ndarray:
    """Raw uint16 reads (2 x 12 pairs, rows, columns) of 400 e- per pair, 8 e- read noise
    per read, gain 1; every pixel's long read of ``hit_pair`` gets a 5000 e- cosmic ray."""
    n_pairs, bias = 12, 1000.0
    short = bias + 8.0 * rng.standard_normal((n_pairs, *shape))
    long = bias + rng.poisson(400.0, (n_pairs, *shape)) + 8.0 * rng.standard_normal(short.shape)
    long[hit_pair] += 5000.0
    raw = np.empty((2 * n_pairs, *shape), dtype=np.uint16)
    raw[0::2], raw[1::2] = np.round(short), np.round(long)
    return raw


@pytest.mark.parametrize("hit_pair", [5, 8])
def test_bin_with_a_replaced_cosmic_ray_has_the_variance_of_its_scatter(hit_pair):
    """Pair 5 lies mid-bin (bins of 4 pairs): the bin sums 1.5 x pair 4 + 1.5 x pair 6 +
    pair 7, variance 5.5 pair variances. Pair 8 starts a bin, so pair 7 lies in the bin
    before: 0.5 x pair 7 + 1.5 x pair 9 + pair 10 + pair 11, 4.5 pair variances."""
    rng = np.random.default_rng(2)
    shape, pairs_per_bin = (50, 80), 4  # 4000 pixels: one noise realisation each
    raw = _cosmic_stream(rng, hit_pair, shape)
    coeffs = np.zeros((6, *shape))
    coeffs[1] = 1.0  # linear: the reads are already e-
    no_dark = np.zeros(shape)
    pixel_model = (1.0, 0.0, coeffs, no_dark, no_dark, 1.0)
    read_variance = np.full(shape, 2 * 8.0**2 + 2 / 12)  # two reads, each rounded
    flux, variance = np.zeros((3, *shape)), np.zeros((3, *shape))
    cosmics = np.zeros((3, *shape), dtype=np.int32)
    testable = np.ones(shape, dtype=np.bool_)
    accumulate_bins(
        raw, pixel_model, read_variance, pairs_per_bin, 0, 5.0, testable,
        np.zeros((3, *shape)), flux, variance, cosmics,
    )  # fmt: skip
    hit_bin = hit_pair // pairs_per_bin
    assert (cosmics[hit_bin] == 1).all() and cosmics.sum() == cosmics[hit_bin].size
    ratio = _ratio(variance[hit_bin], flux[hit_bin].reshape(1, -1), axis=1)
    assert ratio == pytest.approx(1.0, abs=TOLERANCE), ratio


def _fgs1_frames(
    rng: np.random.Generator, draws: int, star: float, sky: float, read: float
) -> tuple[np.ndarray, np.ndarray]:
    """(draws, 32, 32) frames of a Gaussian PSF (sigma 1.15 px) holding ``star`` e- on a
    ``sky`` e-/px background, Gaussian noise of variance signal + ``read``; and the true
    per-pixel variance."""
    yy, xx = np.mgrid[:32, :32]
    psf = np.exp(-((xx - 15.6) ** 2 + (yy - 16.2) ** 2) / (2 * 1.15**2))
    truth = star * psf / psf.sum() + sky
    variance = truth + read
    flux = truth + np.sqrt(variance) * rng.standard_normal((draws, 32, 32))
    return flux, np.broadcast_to(variance, flux.shape).copy()


@pytest.mark.parametrize("method", ["window", "aperture8"])
def test_fgs1_sums_carry_the_error_of_the_median_sky(method):
    """The sky median's error (pi/2 x pixel variance / 572 sky pixels) enters every pixel of
    an aperture sum; inside the window it is partly cancelled by the sky pixels' own noise."""
    rng = np.random.default_rng(3)
    flux, variance = _fgs1_frames(rng, 4000, star=2e4, sky=5.0, read=100.0)
    options = ExtractionOptions(fgs1_method=method)
    result = photometry(flux, variance, np.zeros((32, 32), dtype=bool), options)
    ratio = _ratio(result.variance, result.flux)
    assert ratio == pytest.approx(1.0, abs=TOLERANCE), ratio


def test_fgs1_psf_weighted_variance_matches_its_scatter():
    """Faint star, low read noise: the calibrated variance (shot term from the noisy signal,
    as calibration estimates it) fluctuates by tens of per cent in the PSF wings. Weights
    from a model variance, and the variance of the weighted sum with the data variance,
    match the scatter. The flux is within 2 % (the data-variance weights were 3.9 % low;
    what is left is the PSF estimate's, whose noise-clipped wings take ~1 % of its sum)."""
    rng = np.random.default_rng(4)
    star, read = 1000.0, 1.0
    flux, _ = _fgs1_frames(rng, 4000, star=star, sky=1.0, read=read)
    estimated_variance = np.clip(flux, 0.0, None) + read
    options = ExtractionOptions(fgs1_method="psf")
    result = photometry(flux, estimated_variance, np.zeros((32, 32), dtype=bool), options)
    ratio = _ratio(result.variance, result.flux)
    assert ratio == pytest.approx(1.0, abs=TOLERANCE), ratio
    assert result.flux.mean() == pytest.approx(star, rel=0.02)


def test_airs_optimal_extraction_carries_the_error_of_the_edge_background():
    """A 14-row trace over 8 columns; the background is the median of 4 + 4 edge rows (64
    pixels), so its error, common to the trace's 14 rows, adds ~20 % to each column's
    variance."""
    rng = np.random.default_rng(5)
    draws, n_rows, n_cols, read = 4000, 32, 8, 300.0
    truth = np.full((n_rows, n_cols), 10.0)  # sky
    truth[9:23] += 200.0
    variance = truth + read
    flux = truth + np.sqrt(variance) * rng.standard_normal((draws, n_rows, n_cols))
    variance = np.broadcast_to(variance, flux.shape).copy()
    spectrum = optimal_extraction(
        flux, variance, np.zeros((n_rows, n_cols), dtype=bool), ExtractionOptions()
    )
    ratio = _ratio(spectrum.variance, spectrum.flux)
    assert ratio == pytest.approx(1.0, abs=TOLERANCE), ratio
