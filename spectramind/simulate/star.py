"""Stellar photon rates per instrument channel: a blackbody through each channel's throughput.

Absolute levels are pinned to the real data: a reference star (5800 K, brightness 1) gives the
observed 1.6e7 e- per AIRS CDS pair (282 science columns) and 2.2e5 e- per FGS1 pair. Other
stars keep the blackbody colour between the two instruments.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid

from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, INTEGRATION_S
from spectramind.simulate.constants import REAL_COUNTS_PER_PAIR
from spectramind.simulate.wavelengths import airs_column_wavelengths

HC_OVER_K_UM_K = 14387.77
REFERENCE_TEMPERATURE_K = 5800.0
FGS1_BAND_UM = (0.6, 0.8)


def photon_spectral_radiance(wavelength_um: np.ndarray, t_eff: float) -> np.ndarray:
    """Blackbody photon radiance per unit wavelength, up to a constant (lambda^-4 / (e^x - 1))."""
    wl = np.asarray(wavelength_um, dtype=np.float64)
    return wl**-4 / np.expm1(HC_OVER_K_UM_K / (wl * t_eff))


def airs_throughput(wavelength_um: np.ndarray) -> np.ndarray:
    """Smooth end-to-end efficiency of the AIRS-CH0 channel (optics x grating x detector QE)."""
    wl = np.asarray(wavelength_um, dtype=np.float64)
    return 0.6 * np.exp(-0.5 * ((wl - 2.9) / 1.0) ** 4)


def _airs_column_weights(t_eff: float) -> np.ndarray:
    """Relative photons per AIRS column: radiance x column bandwidth x throughput."""
    wl = airs_column_wavelengths()
    bandwidth = np.abs(np.gradient(wl))
    return photon_spectral_radiance(wl, t_eff) * bandwidth * airs_throughput(wl)


def _fgs1_band_photons(t_eff: float) -> float:
    wl = np.linspace(*FGS1_BAND_UM, 201)
    return float(trapezoid(photon_spectral_radiance(wl, t_eff), wl))


def airs_column_rates(t_eff: float, brightness: float) -> np.ndarray:
    """Stellar e-/s reaching each of the 356 AIRS columns (summed over rows)."""
    weights = _airs_column_weights(t_eff)
    white = REAL_COUNTS_PER_PAIR["AIRS-CH0"] / INTEGRATION_S["AIRS-CH0"]
    return brightness * white * weights / weights[AIRS_SCIENCE_COLUMNS].sum()


def fgs1_rate(t_eff: float, brightness: float) -> float:
    """Stellar e-/s over the FGS1 window, with the star's visible-to-infrared colour."""
    colour = _fgs1_band_photons(t_eff) / _airs_column_weights(t_eff)[AIRS_SCIENCE_COLUMNS].sum()
    reference = (
        _fgs1_band_photons(REFERENCE_TEMPERATURE_K)
        / _airs_column_weights(REFERENCE_TEMPERATURE_K)[AIRS_SCIENCE_COLUMNS].sum()
    )
    white = REAL_COUNTS_PER_PAIR["FGS1"] / INTEGRATION_S["FGS1"]
    return float(brightness * white * colour / reference)
