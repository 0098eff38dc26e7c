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
) -> np.ndarray:
    """Relative stellar flux (time, wavelength) during the transit, 1 out of transit.

    Each wavelength gets its own depth and limb darkening; geometry is shared.
    """
    depth = depth_spectrum(planet, wavelength_um)
    u1, u2 = limb_darkening_law(law, wavelength_um, planet.Ts)
    params = batman.TransitParams()
    params.t0 = t0_h
    params.per = planet.P * 24.0
    params.rp = float(np.sqrt(depth[0]))
    params.a = planet.sma
    params.inc = planet.inclination
    params.ecc = 0.0
    params.w = 90.0
    params.limb_dark = law
    params.u = [float(u1[0]), float(u2[0])]
    model = batman.TransitModel(params, np.asarray(time_h, dtype=np.float64))
    curves = np.empty((len(time_h), len(depth)))
    for k in range(len(depth)):
        params.rp = float(np.sqrt(depth[k]))
        params.u = [float(u1[k]), float(u2[k])]
        curves[:, k] = model.light_curve(params)
    return curves
