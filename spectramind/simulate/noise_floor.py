"""Cramer-Rao bound of each transit depth, given the noise the simulator puts in.

For every target bin and visit, the CDS signal of pixel i in pair k is modelled as
mu_ki = S * p_i * t * (1 - depth * s_k) with S the channel's stellar rate, p_i the pixel's
share (profile x flat), t the integration time and s_k the transit shape from batman.
Its variance is the shot noise of star + sky + dark plus two reads of read noise. The Fisher
matrix over (S, depth) is summed over pixels and pairs; S is marginalised per visit and the
depth information of the visits adds up. Jitter and drift are taken as known, so this is
the floor no method can beat, not a forecast of what one reaches; marginalised_floor.py
also estimates drift, limb darkening and geometry, as a real fit must. The depth here scales
the transit's shape (the dip 1 - min L), not (Rp/Rs)^2 as the marginalised floor's does.
"""

from __future__ import annotations

import numpy as np

from spectramind.io.layout import INTEGRATION_S
from spectramind.simulate.detector import Detector
from spectramind.simulate.scene import BACKGROUND_E_PER_S, airs_profile, fgs1_psf
from spectramind.simulate.wavelengths import airs_columns_to_targets

CHUNK_PAIRS = 512


def _pixel_shares(detector: Detector, instrument: str) -> np.ndarray:
    """(pixels, channels) share of a channel's flux on each pixel, flat applied, dead = 0."""
    response = np.where(detector.dead, 0.0, detector.flat)
    if instrument == "FGS1":
        return (fgs1_psf(np.zeros((1, 2)))[0] * response).reshape(-1, 1)
    return airs_profile(np.zeros(1))[0] * response


def pair_weights(
    detector: Detector,
    instrument: str,
    stellar_rate: np.ndarray,
    light_curve: np.ndarray,
) -> np.ndarray:
    """Fisher weight (pairs, channels) of the relative flux of each pair, pixels summed.

    With mu_ki = signal_i * m_k for any relative model m, the information of a parameter
    pair (a, b) is sum_k W_k dm_k/da dm_k/db with W_k = sum_i signal_i^2 / var_ki.
    stellar_rate: (channels,) e-/s; light_curve: (pairs, channels) relative flux.
    """
    t = INTEGRATION_S[instrument]
    shares = _pixel_shares(detector, instrument)  # (pixels, channels)
    sky = np.where(detector.dead, 0.0, BACKGROUND_E_PER_S[instrument] * detector.flat)
    floor = ((sky + detector.dark) * t + 2.0 * detector.read**2).reshape(shares.shape[0], -1)
    signal = stellar_rate * shares * t  # (pixels, channels) e- per pair out of transit
    weights = np.empty_like(light_curve)
    for start in range(0, len(light_curve), CHUNK_PAIRS):
        lc = light_curve[start : start + CHUNK_PAIRS][:, None, :]
        weights[start : start + CHUNK_PAIRS] = np.sum(signal**2 / (signal * lc + floor), axis=1)
    return weights


def depth_information(weights: np.ndarray, light_curve: np.ndarray) -> np.ndarray:
    """Fisher information on the depth of each channel from one visit, S marginalised.

    weights: (pairs, channels) from ``pair_weights``; light_curve: the relative flux.
    """
    depth = 1.0 - light_curve.min(axis=0)
    shape = (1.0 - light_curve) / np.where(depth > 0, depth, 1.0)
    f_ss = np.sum(weights * light_curve**2, axis=0)
    f_sd = -np.sum(weights * light_curve * shape, axis=0)
    f_dd = np.sum(weights * shape**2, axis=0)
    return f_dd - f_sd**2 / f_ss


def noise_floor_targets(fgs1_information: np.ndarray, airs_information: np.ndarray) -> np.ndarray:
    """Combine per-visit information into the 283 target-ordered depth uncertainties."""
    info = np.concatenate([fgs1_information, airs_columns_to_targets(airs_information)])
    return 1.0 / np.sqrt(info)
