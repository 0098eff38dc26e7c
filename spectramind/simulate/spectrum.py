"""Transit-depth spectra from a scale-height atmosphere, and wavelength-dependent limb darkening.

depth(lambda) = base + A * (ln kappa(lambda) - <ln kappa>): the apparent radius grows by one
scale height H per e-fold of opacity kappa, and A = 2 * base * H / Rp turns that into depth.
kappa sums Gaussian molecular bands at their real centres, Rayleigh scattering and an optional
grey cloud, which flattens the features.
"""

from __future__ import annotations

import numpy as np

from spectramind.simulate.constants import FEATURE_AMPLITUDE_PPM
from spectramind.simulate.population import MOLECULES, PlanetTruth

K_BOLTZMANN = 1.380649e-23  # J/K
M_HYDROGEN = 1.6735575e-27  # kg
G_NEWTON = 6.674e-11
R_SUN_M = 6.957e8
M_JUPITER_KG = 1.898e27
MEAN_MOLECULAR_WEIGHT = 2.3

# (centre um, width um, relative strength) of the strongest bands between 0.6 and ~4.7 um.
BANDS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "H2O": (
        (0.94, 0.03, 0.3),
        (1.14, 0.04, 0.5),
        (1.38, 0.06, 1.0),
        (1.87, 0.08, 1.2),
        (2.70, 0.15, 2.0),
    ),
    "CO2": ((1.60, 0.02, 0.1), (2.03, 0.04, 0.4), (2.70, 0.05, 1.0), (4.30, 0.10, 5.0)),
    "CH4": (
        (0.89, 0.02, 0.1),
        (1.17, 0.04, 0.3),
        (1.67, 0.05, 0.6),
        (2.32, 0.08, 1.0),
        (3.31, 0.10, 2.0),
    ),
    "CO": ((1.57, 0.02, 0.05), (2.35, 0.05, 0.5), (4.67, 0.12, 3.0)),
}
RAYLEIGH_OPACITY_AT_1UM = 0.05
CONTINUUM_OPACITY = 0.02


def scale_height_m(planet: PlanetTruth) -> float:
    """Atmospheric scale height kT/(mu m_H g) at the equilibrium temperature."""
    radius = np.sqrt(planet.base_depth) * planet.Rs * R_SUN_M
    gravity = G_NEWTON * planet.Mp * M_JUPITER_KG / radius**2
    t_eq = planet.Ts * np.sqrt(1.0 / (2.0 * planet.sma))
    return float(K_BOLTZMANN * t_eq / (MEAN_MOLECULAR_WEIGHT * M_HYDROGEN * gravity))


def log_opacity(
    wavelength_um: np.ndarray, abundances: tuple[float, ...], cloud: float
) -> np.ndarray:
    """ln of the total opacity (arbitrary units) at each wavelength."""
    wl = np.asarray(wavelength_um, dtype=np.float64)
    kappa = CONTINUUM_OPACITY + RAYLEIGH_OPACITY_AT_1UM * wl**-4 + cloud
    for molecule, abundance in zip(MOLECULES, abundances, strict=True):
        for centre, width, strength in BANDS[molecule]:
            kappa = kappa + abundance * strength * np.exp(-0.5 * ((wl - centre) / width) ** 2)
    return np.log(kappa)


def depth_spectrum(planet: PlanetTruth, wavelength_um: np.ndarray) -> np.ndarray:
    """True transit depth (Rp/Rs)^2 at each wavelength.

    The clear-sky peak-to-peak feature size is the physical one (2 * base * H / Rp per e-fold
    of opacity), compressed monotonically into the real 50..200 ppm range; a grey cloud then
    mutes the features of the cloudy planets.
    """
    reference = np.linspace(0.6, 4.1, 400)
    clear = log_opacity(reference, planet.abundances, 0.0)
    per_efold = (
        2.0
        * planet.base_depth
        * scale_height_m(planet)
        / (np.sqrt(planet.base_depth) * planet.Rs * R_SUN_M)
    )
    natural = per_efold * np.ptp(clear)
    lo, hi = (a * 1e-6 for a in FEATURE_AMPLITUDE_PPM)
    amplitude = lo + (hi - lo) * np.tanh(natural / hi)
    per_unit_log = amplitude / np.ptp(clear)
    cloudy_ref = log_opacity(reference, planet.abundances, planet.cloud_opacity)
    cloudy = log_opacity(wavelength_um, planet.abundances, planet.cloud_opacity)
    return planet.base_depth + per_unit_log * (cloudy - cloudy_ref.mean())


def limb_darkening(wavelength_um: np.ndarray, t_eff: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic limb-darkening (u1, u2): strong in the visible, weak in the infrared.

    An empirical power law in wavelength and effective temperature, close to tabulated
    solar-type values (u1 ~ 0.45 at 0.7 um, ~ 0.15 at 3 um).
    """
    wl = np.asarray(wavelength_um, dtype=np.float64)
    u1 = 0.45 * (wl / 0.7) ** -0.7 * (t_eff / 5800.0) ** -1.0
    u2 = 0.22 * (wl / 0.7) ** -0.3
    return u1, u2
