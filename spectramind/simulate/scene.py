"""What falls on each pixel: the FGS1 PSF and the AIRS spectral trace, moved by jitter.

Rates are e-/s per pixel, including the flat field (dead pixels see nothing), a uniform sky
background (constant, or varying in time with the mismatch sky switch) and the dark current,
i.e. everything the ramp integrates.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from spectramind.io.layout import N_ROWS
from spectramind.simulate.detector import Detector
from spectramind.simulate.systematics import AIRS_PIXELS_PER_FGS1_PIXEL
from spectramind.simulate.wavelengths import airs_column_wavelengths

BACKGROUND_E_PER_S = {"FGS1": 5.0, "AIRS-CH0": 2.0}
FGS1_PSF_SIGMA_PX = 1.15
FGS1_CENTRE_XY = (15.6, 16.2)
AIRS_TRACE_ROW = 15.8
AIRS_TRACE_TILT_ROWS = 0.6
AIRS_CORE_SIGMA_ROWS_AT_2UM = 0.7
AIRS_HALO_FRACTION = 0.03
AIRS_HALO_SIGMA_ROWS = 5.0


def pixel_fractions(centre: np.ndarray, sigma: np.ndarray | float, n_pix: int) -> np.ndarray:
    """Fraction of a Gaussian landing on pixels 0..n_pix-1 (pixel k spans [k, k+1)).

    ``centre`` and ``sigma`` broadcast together; the pixel axis is inserted second, so a
    (n,) centre gives (n, n_pix) and an (n, W) centre gives (n, n_pix, W).
    """
    centre, sigma = np.broadcast_arrays(np.asarray(centre, np.float64), np.asarray(sigma))
    edges = np.arange(n_pix + 1, dtype=np.float64).reshape((1, -1) + (1,) * (centre.ndim - 1))
    cdf = ndtr((edges - np.expand_dims(centre, 1)) / np.expand_dims(sigma, 1))
    return np.diff(cdf, axis=1)


def fgs1_psf(offset_xy: np.ndarray) -> np.ndarray:
    """(n, 32, 32) fraction of the star's flux per pixel for pointing offsets (n, 2)."""
    gx = pixel_fractions(FGS1_CENTRE_XY[0] + offset_xy[:, 0], FGS1_PSF_SIGMA_PX, 32)
    gy = pixel_fractions(FGS1_CENTRE_XY[1] + offset_xy[:, 1], FGS1_PSF_SIGMA_PX, N_ROWS)
    return gy[:, :, None] * gx[:, None, :]


def airs_trace_rows() -> np.ndarray:
    """Row of the trace centre at each of the 356 columns (slightly tilted)."""
    x = np.linspace(-0.5, 0.5, len(airs_column_wavelengths()))
    return AIRS_TRACE_ROW + AIRS_TRACE_TILT_ROWS * x


def airs_profile(offset_rows: np.ndarray) -> np.ndarray:
    """(n, 32, 356) fraction of each column's flux per row: diffraction core plus halo.

    The core widens with wavelength (diffraction), so jitter modulates red and blue columns
    differently.
    """
    wavelength = airs_column_wavelengths()
    centre = airs_trace_rows()[None, :] + offset_rows[:, None]
    core_sigma = AIRS_CORE_SIGMA_ROWS_AT_2UM * wavelength / 2.0
    core = pixel_fractions(centre, core_sigma[None, :], N_ROWS)
    halo = pixel_fractions(centre, AIRS_HALO_SIGMA_ROWS, N_ROWS)
    return (1.0 - AIRS_HALO_FRACTION) * core + AIRS_HALO_FRACTION * halo


def _detector_terms(detector: Detector, instrument: str) -> tuple[np.ndarray, np.ndarray]:
    response = np.where(detector.dead, 0.0, detector.flat)
    floor = np.where(detector.dead, 0.0, BACKGROUND_E_PER_S[instrument] * detector.flat)
    return response, floor + detector.dark


def _add_sky_variation(
    rates: np.ndarray, detector: Detector, instrument: str, sky: np.ndarray | None
) -> None:
    """Add (sky - 1) x the constant background to ``rates`` (n, 32, W), in place."""
    if sky is None:
        return
    background = np.where(detector.dead, 0.0, BACKGROUND_E_PER_S[instrument] * detector.flat)
    rates += (np.asarray(sky) - 1.0)[:, None, None] * background


def fgs1_rates(
    detector: Detector,
    stellar: np.ndarray,
    offset_xy: np.ndarray,
    sky: np.ndarray | None = None,
) -> np.ndarray:
    """Pixel rates (n, 32, 32) e-/s for stellar flux (n,) e-/s and pointing offsets (n, 2);
    ``sky`` (n,) scales the background (None: constant)."""
    response, floor = _detector_terms(detector, "FGS1")
    rates = fgs1_psf(offset_xy) * stellar[:, None, None]
    rates *= response
    rates += floor
    _add_sky_variation(rates, detector, "FGS1", sky)
    return rates


def airs_rates(
    detector: Detector,
    stellar: np.ndarray,
    offset_xy: np.ndarray,
    sky: np.ndarray | None = None,
) -> np.ndarray:
    """Pixel rates (n, 32, 356) e-/s for column fluxes (n, 356) e-/s and pointing (n, 2);
    ``sky`` (n,) scales the background (None: constant).

    Pointing moves the spectrum along the columns (first-order shift of the column fluxes)
    and the trace across the rows.
    """
    shift = offset_xy * AIRS_PIXELS_PER_FGS1_PIXEL
    shifted = stellar - shift[:, :1] * np.gradient(stellar, axis=1)
    response, floor = _detector_terms(detector, "AIRS-CH0")
    rates = airs_profile(shift[:, 1]) * shifted[:, None, :]
    rates *= response
    rates += floor
    _add_sky_variation(rates, detector, "AIRS-CH0", sky)
    return rates
