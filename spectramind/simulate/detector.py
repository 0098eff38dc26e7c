"""The detector: calibration maps, non-linear response and readout to uint16.

The response is defined as the inverse of the per-pixel linear_corr polynomial written to
disk, so the organisers' calibration chain recovers the linear signal exactly (up to noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.io.layout import frame_shape
from spectramind.simulate.constants import (
    ADC_GAIN,
    ADC_OFFSET,
    REAL_DARK_MEDIAN,
    REAL_DEAD_FRACTION,
    REAL_FLAT_LIVE_STD,
    REAL_FLAT_MEDIAN,
    REAL_HOT_DARK_MAX,
    REAL_HOT_FRACTION,
    REAL_LINEAR_CORR_MEDIANS,
    REAL_READ_MAX,
    REAL_READ_MEDIAN,
)

DARK_SPREAD = 0.2  # lognormal sigma: AIRS's 99th percentile (below its hot pixels) ~1.7x median
HOT_DARK_MIN = 0.02  # e-/s, 3x the median: every hot pixel clears the 5-sigma clip (~2x)
DEAD_FLAT_RANGE = (0.05, 0.45)  # a dead pixel barely responds
READ_SPREAD = 0.08  # lognormal sigma of the read noise of ordinary pixels
NOISY_FRACTION = 0.0162  # noisy pixels; 62 % of them, 1 % of all, read above 30 e- (2.3x median)
TELEGRAPH_MIN_E = 20.0  # noisy pixels' telegraph amplitude: a power law from here to the real
TELEGRAPH_INDEX = 1.5  # maximum, P(A > a) ~ a^-1.5: steep enough to pin the 99th percentile
FULL_WELL_E = 1.0e5
PEDESTAL_RMS_E = 55.0
LINEAR_CORR_SPREAD = 0.1  # relative pixel-to-pixel spread of c2..c5
NEWTON_STEPS = 2


@dataclass(frozen=True)
class Detector:
    """Per-pixel maps of one instrument for one visit, each (32, W); linear_corr (6, 32, W).

    dark (e-/s), dead (bool), flat (relative response), read (e- rms per read),
    linear_corr (measured -> linear, increasing powers), pedestal (e-, reset level that
    cancels in CDS), hot (bool, the pixels drawn hot), telegraph (e-, amplitude of the
    two-level noise of noisy pixels, 0 elsewhere; included in read).
    """

    dark: np.ndarray
    dead: np.ndarray
    flat: np.ndarray
    read: np.ndarray
    linear_corr: np.ndarray
    pedestal: np.ndarray
    hot: np.ndarray
    telegraph: np.ndarray

    @property
    def gaussian_read(self) -> np.ndarray:
        """The Gaussian part of the read noise (e- rms): read less the telegraph part."""
        return np.sqrt(self.read**2 - self.telegraph**2)


def bad_pixel_masks(
    rng: np.random.Generator, shape: tuple[int, int], fractions: tuple[float, ...]
) -> list[np.ndarray]:
    """Disjoint masks holding round(fraction * pixels) pixels each, at random positions.

    A detector has a set number of each kind of bad pixel; only where they sit changes from
    one calibration to the next, so every planet's frames carry the real counts.
    """
    n_pixels = shape[0] * shape[1]
    order = rng.permutation(n_pixels)
    masks, start = [], 0
    for fraction in fractions:
        stop = start + round(fraction * n_pixels)
        mask = np.zeros(n_pixels, dtype=bool)
        mask[order[start:stop]] = True
        masks.append(mask.reshape(shape))
        start = stop
    return masks


def log_uniform_ceiling(observed_max: float, low: float, n: int) -> float:
    """Upper end of a log-uniform law from ``low`` whose largest of ``n`` draws is, on average
    in log, ``observed_max``: that maximum lies 1/(n + 1) of the log span below the ceiling.
    """
    return float(np.exp(((n + 1) * np.log(observed_max) - np.log(low)) / n))


def log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` draws spread evenly in log between ``low`` and ``high``."""
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def draw_dark(rng: np.random.Generator, hot: np.ndarray, instrument: str) -> np.ndarray:
    """Dark current (e-/s): a lognormal core, and hot pixels reaching the real maximum."""
    dark = REAL_DARK_MEDIAN * np.exp(rng.normal(0.0, DARK_SPREAD, hot.shape))
    n_hot = int(hot.sum())
    ceiling = log_uniform_ceiling(REAL_HOT_DARK_MAX[instrument], HOT_DARK_MIN, n_hot)
    dark[hot] = log_uniform(rng, HOT_DARK_MIN, ceiling, n_hot)
    return dark


def draw_flat(rng: np.random.Generator, dead: np.ndarray) -> np.ndarray:
    """Pixel response: narrow and Gaussian on live pixels, far below 0.5 on dead ones."""
    flat = REAL_FLAT_MEDIAN + REAL_FLAT_LIVE_STD * rng.standard_normal(dead.shape)
    flat[dead] = rng.uniform(*DEAD_FLAT_RANGE, int(dead.sum()))
    return flat


def truncated_power_law(
    rng: np.random.Generator, low: float, high: float, index: float, n: int
) -> np.ndarray:
    """``n`` draws with P(x > r) ~ r^-index between ``low`` and ``high`` (inverse CDF)."""
    cut = 1.0 - (low / high) ** index
    return low * (1.0 - cut * rng.uniform(0.0, 1.0, n)) ** (-1.0 / index)


def draw_read(rng: np.random.Generator, noisy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read noise (e- rms) and telegraph amplitude (e-) of every pixel.

    Every pixel has Gaussian noise of lognormal rms; noisy pixels add random-telegraph noise,
    whose power-law amplitudes give the read map its tail up to the real maximum. Its
    excursions are bounded (+-amplitude), so the tail does not drag the raw minimum below the
    real one.
    """
    gaussian = REAL_READ_MEDIAN * np.exp(rng.normal(0.0, READ_SPREAD, noisy.shape))
    telegraph = np.zeros(noisy.shape)
    telegraph[noisy] = truncated_power_law(
        rng, TELEGRAPH_MIN_E, max(REAL_READ_MAX), TELEGRAPH_INDEX, int(noisy.sum())
    )
    return np.hypot(gaussian, telegraph), telegraph


def draw_linear_corr(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Per-pixel linearity coefficients (6, 32, W) around the real medians."""
    c0 = rng.uniform(0.14, 0.27, shape)
    c1 = REAL_LINEAR_CORR_MEDIANS[1] * (1.0 + rng.normal(0.0, 2e-5, shape))
    higher = [
        median * (1.0 + LINEAR_CORR_SPREAD * rng.standard_normal(shape))
        for median in REAL_LINEAR_CORR_MEDIANS[2:]
    ]
    return np.stack([c0, c1, *higher])


def draw_detector(rng: np.random.Generator, instrument: str) -> Detector:
    """Draw calibration maps with the real medians, spreads, tails and bad-pixel counts."""
    shape = frame_shape(instrument)
    hot, dead, noisy = bad_pixel_masks(
        rng, shape, (REAL_HOT_FRACTION[instrument], REAL_DEAD_FRACTION[instrument], NOISY_FRACTION)
    )
    dark = draw_dark(rng, hot, instrument)
    flat = draw_flat(rng, dead)
    read, telegraph = draw_read(rng, noisy)
    return Detector(
        dark=dark,
        dead=dead,
        flat=flat,
        read=read,
        linear_corr=draw_linear_corr(rng, shape),
        pedestal=rng.normal(0.0, PEDESTAL_RMS_E, shape),
        hot=hot,
        telegraph=telegraph,
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


def add_telegraph(noise: np.ndarray, telegraph: np.ndarray, rng: np.random.Generator) -> None:
    """Add +-amplitude, a level drawn per read, to the telegraph pixels of ``noise`` (n, 32, W).

    The pixels switch faster than reads come, so every read sees either level at random.
    """
    pixels = np.flatnonzero(telegraph)
    levels = rng.integers(0, 2, (len(noise), pixels.size)) * 2 - 1
    flat = noise.reshape(len(noise), -1)
    flat[:, pixels] += (levels * telegraph.ravel()[pixels]).astype(noise.dtype)


def read_out(detector: Detector, charge: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Accumulated charge (n, 32, W) e- -> raw uint16 frames.

    Adds the reset pedestal, applies the non-linear response and full-well saturation, adds
    read noise (Gaussian plus telegraph), then digitises with the real ADC gain and offset.
    Works in float32: its precision (< 0.01 e- at full well) is far below one ADC step (2.3 e-).
    """
    signal = charge.astype(np.float32)
    signal += detector.pedestal.astype(np.float32)
    measured = measured_signal(detector, signal)
    np.minimum(measured, FULL_WELL_E, out=measured)
    noise = rng.standard_normal(measured.shape, dtype=np.float32)
    noise *= detector.gaussian_read.astype(np.float32)
    add_telegraph(noise, detector.telegraph, rng)
    measured += noise
    measured -= ADC_OFFSET
    measured *= ADC_GAIN
    np.rint(measured, out=measured)
    np.clip(measured, 0, np.iinfo(np.uint16).max, out=measured)
    return measured.astype(np.uint16)
