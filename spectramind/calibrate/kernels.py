"""Fused per-pixel calibration loops (numba): ADC -> linearity -> dark -> CDS -> cosmic-ray
rejection -> time-bin sums, in one pass over the raw uint16 frames.

Fusing matters: each step is a few flops per pixel, so separate numpy passes would spend
their time moving float64 copies of the visit through memory. Here every raw value is read
once, the arithmetic is float64 in registers, and only the binned sums are stored. Steps
that are switched off are passed as identities (gain 1, offset 0, polynomial x, dark 0,
short-read weight 0) so the loops stay branch-free and vectorise.

``pixel_model`` is the tuple (inv_gain, offset, coeffs (6, R, C), dark_short (R, C),
dark_long (R, C), short_weight): everything that turns a raw pair into a CDS signal.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _pair_signal(
    short: np.ndarray, long: np.ndarray, pixel_model: tuple, signal: np.ndarray, shot: np.ndarray
) -> None:
    """Calibrated CDS signal of one pair into ``signal`` (R, C), and its shot-noise term."""
    inv_gain, offset, coeffs, dark_short, dark_long, short_weight = pixel_model
    n_rows, n_cols = signal.shape
    for r in range(n_rows):
        for c in range(n_cols):
            lo = short[r, c] * inv_gain + offset
            hi = long[r, c] * inv_gain + offset
            lin_lo = coeffs[5, r, c]
            lin_hi = coeffs[5, r, c]
            for power in range(4, -1, -1):
                lin_lo = lin_lo * lo + coeffs[power, r, c]
                lin_hi = lin_hi * hi + coeffs[power, r, c]
            raw_cds = lin_hi - short_weight * lin_lo
            shot[r, c] = max(raw_cds, 0.0)
            signal[r, c] = raw_cds - (dark_long[r, c] - short_weight * dark_short[r, c])


@njit(cache=True, nogil=True)
def pair_signals(raw: np.ndarray, pixel_model: tuple, out: np.ndarray) -> None:
    """Calibrated CDS signal of the first len(out) pairs of ``raw`` into ``out`` (k, R, C)."""
    shot = np.empty(out.shape[1:])
    for k in range(out.shape[0]):
        _pair_signal(raw[2 * k], raw[2 * k + 1], pixel_model, out[k], shot)


@njit(cache=True, nogil=True)
def _replacement_variance(
    var_before: float, var_after: float, var_middle: float, before_in_bin: bool, after_in_bin: bool
) -> float:
    """Change of a bin's variance when its pair (variance ``var_middle``) becomes the mean of
    its time neighbours: the mean's own variance, minus the pair's, plus 2 x 0.5 x the
    variance of each neighbour summed into the same bin (their covariance)."""
    change = 0.25 * (var_before + var_after) - var_middle
    if before_in_bin:
        change += var_before
    if after_in_bin:
        change += var_after
    return change


@njit(cache=True, nogil=True)
def accumulate_bins(
    raw: np.ndarray,
    pixel_model: tuple,
    read_variance: np.ndarray,
    pairs_per_bin: int,
    first_pair: int,
    cosmic_sigma: float,
    testable: np.ndarray,
    history: np.ndarray,
    flux: np.ndarray,
    variance: np.ndarray,
    cosmics: np.ndarray,
) -> None:
    """Add the CDS pairs of ``raw`` (2n frames, rows, columns; short then long read of each
    pair) into the bin sums ``flux`` / ``variance`` (bins, R, C) float64.

    read_variance: read-noise variance of one CDS value (e-^2). Pair k of
    this chunk is pair first_pair + k of the visit and goes to bin
    (first_pair + k) // pairs_per_bin.

    Cosmic rays (cosmic_sigma > 0): a pair exceeding both time neighbours by cosmic_sigma
    times the photon + read noise of a difference is replaced by the neighbours' mean and
    counted in ``cosmics``. Only pixels whose ``testable`` flag is set are tested.
    ``history`` (3, R, C) carries the two previous pairs and the bin of the last one
    between chunks. The replacement's variance is a quarter of the neighbours' sum, plus
    its covariance with each neighbour summed into the same bin (the neighbour's variance);
    the covariance with a neighbour in the adjacent bin is not kept.
    """
    n_pairs = raw.shape[0] // 2
    n_rows, n_cols = flux.shape[1], flux.shape[2]
    dark_short, dark_long, short_weight = pixel_model[3], pixel_model[4], pixel_model[5]
    signal = np.empty((n_rows, n_cols))
    shot = np.empty((n_rows, n_cols))
    for k in range(n_pairs):
        pair = first_pair + k
        b = pair // pairs_per_bin
        _pair_signal(raw[2 * k], raw[2 * k + 1], pixel_model, signal, shot)
        for r in range(n_rows):
            for c in range(n_cols):
                value = signal[r, c]
                flux[b, r, c] += value
                variance[b, r, c] += shot[r, c] + read_variance[r, c]
                if cosmic_sigma > 0.0 and testable[r, c]:
                    middle = history[1, r, c]
                    if pair >= 2:
                        before = history[0, r, c]
                        neighbours = 0.5 * (before + value)
                        level = max(neighbours, 0.0)
                        noise = np.sqrt(2.0 * (level + read_variance[r, c]))
                        if middle - max(before, value) > cosmic_sigma * noise:
                            middle_bin = int(history[2, r, c])
                            flux[middle_bin, r, c] += neighbours - middle
                            # Shot terms as _pair_signal has them: of the CDS before the
                            # dark is subtracted.
                            dark = dark_long[r, c] - short_weight * dark_short[r, c]
                            var_before = max(before + dark, 0.0) + read_variance[r, c]
                            var_middle = max(middle + dark, 0.0) + read_variance[r, c]
                            var_after = shot[r, c] + read_variance[r, c]
                            variance[middle_bin, r, c] += _replacement_variance(
                                var_before, var_after, var_middle,
                                (pair - 2) // pairs_per_bin == middle_bin, b == middle_bin,
                            )  # fmt: skip
                            cosmics[middle_bin, r, c] += 1
                            middle = neighbours
                    history[0, r, c] = middle
                    history[1, r, c] = value
                    history[2, r, c] = b
