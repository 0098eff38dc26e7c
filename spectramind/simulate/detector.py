"""The detector: calibration maps, non-linear response and readout to uint16.

The response is defined as the inverse of the per-pixel linear_corr polynomial written to
disk, so the organisers' calibration chain recovers the linear signal exactly (up to noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.io.layout import frame_shape
from spectramind.simulate.constants import ADC_GAIN, ADC_OFFSET, REAL_LINEAR_CORR_MEDIANS

HOT_FRACTION = 0.017
DEAD_FRACTION = 0.01
FULL_WELL_E = 1.0e5
PEDESTAL_RMS_E = 55.0
LINEAR_CORR_SPREAD = 0.1  # relative pixel-to-pixel spread of c2..c5
NEWTON_STEPS = 2


@dataclass(frozen=True)
class Detector:
    """Per-pixel maps of one instrument for one visit, each (32, W); linear_corr (6, 32, W).

    dark (e-/s), dead (bool), flat (relative response), read (e- rms per read),
    linear_corr (measured -> linear, increasing powers), pedestal (e-, reset level that
    cancels in CDS), hot (bool, the pixels drawn hot).
    """

    dark: np.ndarray
    dead: np.ndarray
    flat: np.ndarray
    read: np.ndarray
    linear_corr: np.ndarray
    pedestal: np.ndarray
    hot: np.ndarray


def draw_detector(rng: np.random.Generator, instrument: str) -> Detector:
    """Draw calibration maps with the real medians, spreads and bad-pixel fractions."""
    shape = frame_shape(instrument)
    n_pixels = shape[0] * shape[1]
    bad = rng.permutation(n_pixels)
    n_hot, n_dead = round(HOT_FRACTION * n_pixels), round(DEAD_FRACTION * n_pixels)
    hot = np.isin(np.arange(n_pixels), bad[:n_hot]).reshape(shape)
    dead = np.isin(np.arange(n_pixels), bad[n_hot : n_hot + n_dead]).reshape(shape)
    dark = 0.006 * np.exp(rng.normal(0.0, 0.2, shape))
    dark[hot] = np.exp(rng.uniform(np.log(0.05), np.log(12.0), hot.sum()))
    flat = np.clip(rng.normal(1.01, 0.03, shape), 0.89, 1.11)
    flat[dead] = rng.uniform(0.05, 0.45, dead.sum())
    read = 13.0 * np.exp(rng.normal(0.0, 0.08, shape))
    c0 = rng.uniform(0.14, 0.27, shape)
    c1 = REAL_LINEAR_CORR_MEDIANS[1] * (1.0 + rng.normal(0.0, 2e-5, shape))
    higher = [
        median * (1.0 + LINEAR_CORR_SPREAD * rng.standard_normal(shape))
        for median in REAL_LINEAR_CORR_MEDIANS[2:]
    ]
    return Detector(
        dark=dark,
        dead=dead,
        flat=flat,
        read=read,
        linear_corr=np.stack([c0, c1, *higher]),
        pedestal=rng.normal(0.0, PEDESTAL_RMS_E, shape),
        hot=hot,
    )


def _polynomial_and_slope(coeffs: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horner evaluation of P(x) and P'(x) for per-pixel coefficients (6, ...) in rising order."""
    slope = np.broadcast_to(coeffs[-1], x.shape).astype(x.dtype)
    value = slope * x
    value += coeffs[-2]
    for c in coeffs[-3::-1]:
        slope *= x
        slope += value
        value *= x
        value += c
    return value, slope


def measured_signal(detector: Detector, linear: np.ndarray) -> np.ndarray:
    """Invert the linear_corr polynomial: the measured value m with P(m) = ``linear``.

    Newton's method from m = linear; the polynomial is monotonic and within a few per cent of
    the identity over the full well, so two steps land within 0.05 e- of the root even at
    full well, far below one ADC step (2.3 e-).
    """
    coeffs = detector.linear_corr.astype(linear.dtype)
    measured = linear.copy()
    for _ in range(NEWTON_STEPS):
        value, slope = _polynomial_and_slope(coeffs, measured)
        value -= linear
        value /= slope
        measured -= value
    return measured


def read_out(detector: Detector, charge: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Accumulated charge (n, 32, W) e- -> raw uint16 frames.

    Adds the reset pedestal, applies the non-linear response and full-well saturation, adds
    read noise, then digitises with the real ADC gain and offset. Works in float32: its
    precision (< 0.01 e- at full well) is far below one ADC step (2.3 e-).
    """
    signal = charge.astype(np.float32)
    signal += detector.pedestal.astype(np.float32)
    measured = measured_signal(detector, signal)
    np.minimum(measured, FULL_WELL_E, out=measured)
    noise = rng.standard_normal(measured.shape, dtype=np.float32)
    noise *= detector.read.astype(np.float32)
    measured += noise
    measured -= ADC_OFFSET
    measured *= ADC_GAIN
    np.rint(measured, out=measured)
    np.clip(measured, 0, np.iinfo(np.uint16).max, out=measured)
    return measured.astype(np.uint16)
