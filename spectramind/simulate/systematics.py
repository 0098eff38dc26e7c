"""Instrument systematics: pointing jitter shared by both instruments, and thermal drift.

Jitter is two AR(1) processes per axis (a fast one of ~1.5 s and a slow one of ~10 min) on
the real 0.4 s FGS1 pair grid; each instrument samples it over its own exposures, so AIRS,
integrating 4.5 s, sees a smoothed version of what FGS1 sees.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from spectramind.io.layout import INTEGRATION_S, PAIR_PERIOD_S, SHORT_READ_S
from spectramind.simulate.constants import VISIT_LENGTH_S
from spectramind.simulate.population import VisitTruth

GRID_S = PAIR_PERIOD_S["FGS1"]
FAST_TIMESCALE_S = 1.5
SLOW_TIMESCALE_S = 600.0
# Fast jitter rms per axis (FGS1 px, times the visit's 0.8..1.2), tuned against the real FGS1
# pair scatter: ~0.5 % on ~2.2e5 e- summed over the 32x32 window, where shot noise is ~0.2 %
# and read noise (13 e- on 1024 pixels, two reads) another ~0.27 %. Moving the PSF changes that
# sum only through the flat's pixel-to-pixel spread (real live std 0.013) and dead pixels near
# the PSF, a term that grows sublinearly with amplitude and levels off at ~0.3 % once the PSF
# (sigma 1.15 px) wanders over several pixels; hence ~2x the 0.70 a too-wide flat (std ~0.08)
# needed. benchmarks/simulator_statistics.py: 0.98 (seed 2025) and 1.02 (seed 7) of real.
FAST_RMS_PX = 1.50
SLOW_RMS_PX = 0.20
AIRS_PIXELS_PER_FGS1_PIXEL = 0.012
VISIT_MID_H = VISIT_LENGTH_S / 7200.0


def ar1_process(rng: np.random.Generator, n: int, timescale_s: float, rms: float) -> np.ndarray:
    """Stationary AR(1) series with the given correlation time and rms on the jitter grid."""
    phi = np.exp(-GRID_S / timescale_s)
    white = rng.standard_normal(n)
    white[0] /= np.sqrt(1.0 - phi**2)  # start in the stationary state
    return lfilter([rms * np.sqrt(1.0 - phi**2)], [1.0, -phi], white)


def pointing_jitter(rng: np.random.Generator, visit: VisitTruth) -> np.ndarray:
    """Pointing offsets (grid, 2) in FGS1 pixels (x, y) on the 0.4 s grid over the visit."""
    n = int(round(VISIT_LENGTH_S / GRID_S)) + 16
    axes = [
        ar1_process(rng, n, FAST_TIMESCALE_S, FAST_RMS_PX * visit.jitter_fast_px)
        + ar1_process(rng, n, SLOW_TIMESCALE_S, SLOW_RMS_PX * visit.jitter_slow_px)
        for _ in range(2)
    ]
    return np.stack(axes, axis=1)


def jitter_per_pair(jitter: np.ndarray, instrument: str, n_pairs: int, cadence: int) -> np.ndarray:
    """Mean pointing (n_pairs, 2) during each CDS integration of ``instrument``."""
    steps = int(round(PAIR_PERIOD_S[instrument] * cadence / GRID_S))
    first = int(round(SHORT_READ_S / GRID_S))
    width = max(1, int(round(INTEGRATION_S[instrument] / GRID_S)))
    start = first + steps * np.arange(n_pairs)
    window = jitter[start[:, None] + np.arange(width)[None, :]]
    return window.mean(axis=1)


def thermal_drift(visit: VisitTruth, time_h: np.ndarray, wavelength_um: np.ndarray) -> np.ndarray:
    """Multiplicative drift (time, wavelength): slope, curvature and a settling ramp.

    Slope and ramp change smoothly and linearly with wavelength, as a thermal effect would.
    """
    tau = (np.asarray(time_h)[:, None] - VISIT_MID_H) / VISIT_MID_H
    colour = (np.asarray(wavelength_um)[None, :] - 2.5) / 1.5
    slope = visit.drift_slope + visit.drift_slope_colour * colour
    ramp = visit.ramp_amplitude * (1.0 + visit.ramp_colour * colour)
    settling = np.exp(-np.asarray(time_h)[:, None] / visit.ramp_timescale_h)
    return 1.0 + slope * tau + visit.drift_curvature * tau**2 - ramp * settling
