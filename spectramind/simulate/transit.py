"""Transit light curves with batman (circular orbit; quadratic or power-2 limb darkening)."""

from __future__ import annotations

import batman
import numpy as np

from spectramind.simulate.mismatch import power2_limb_darkening
from spectramind.simulate.population import PlanetTruth
from spectramind.simulate.spectrum import depth_spectrum, limb_darkening


def limb_darkening_law(
    law: str, wavelength_um: np.ndarray, t_eff: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of batman's ``law`` ("quadratic": u1, u2; "power2": c, alpha)."""
    if law == "quadratic":
        return limb_darkening(wavelength_um, t_eff)
    if law == "power2":
        return power2_limb_darkening(wavelength_um, t_eff)
    raise ValueError(f"unknown limb-darkening law {law!r}")


def light_curves(
    planet: PlanetTruth,
    t0_h: float,
    time_h: np.ndarray,
    wavelength_um: np.ndarray,
    law: str = "quadratic",
    extra_depth: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Relative stellar flux (time, wavelength) during the transit, 1 out of transit.

    Each wavelength gets its own depth (the planet's, plus ``extra_depth``: an injected
    signal) and limb darkening; geometry is shared.
    """
    depth = depth_spectrum(planet, wavelength_um) + extra_depth
    coefficients = limb_darkening_law(law, wavelength_um, planet.Ts)
    geometry = (planet.P * 24.0, planet.sma, planet.inclination)
    return batman_curves(time_h, t0_h, geometry, depth, coefficients, law)


def batman_curves(
    time_h: np.ndarray,
    t0_h: float,
    orbit: tuple[float, float, float],
    depth: np.ndarray,
    coefficients: tuple[np.ndarray, np.ndarray],
    law: str = "quadratic",
) -> np.ndarray:
    """batman light curves (time, channels) of a circular orbit (period h, a/Rs, inclination
    deg) shared by all channels, each with its own depth and pair of ``law`` coefficients."""
    period_h, sma, inclination = orbit
    c1, c2 = coefficients
    params = batman.TransitParams()
    params.t0, params.per, params.a, params.inc = t0_h, period_h, sma, inclination
    params.ecc, params.w, params.limb_dark = 0.0, 90.0, law
    params.rp, params.u = float(np.sqrt(depth[0])), [float(c1[0]), float(c2[0])]
    model = batman.TransitModel(params, np.asarray(time_h, dtype=np.float64))
    curves = np.empty((len(time_h), len(depth)))
    for k in range(len(depth)):
        params.rp = float(np.sqrt(depth[k]))
        params.u = [float(c1[k]), float(c2[k])]
        curves[:, k] = model.light_curve(params)
    return curves
