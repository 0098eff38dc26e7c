"""Fit one planet's light curves: white-light geometry, then a depth and sigma per channel."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import numpy as np
import xarray as xr

from spectramind import __version__
from spectramind.fit.model import (
    TransitCurve,
    common_mode_design,
    fitted_baseline,
    systematics_design,
)
from spectramind.fit.options import FitOptions
from spectramind.fit.spectrum import ChannelData, fit_depth, fit_limb_darkening_slope
from spectramind.fit.white_light import VisitCurves, fit_white_light

log = logging.getLogger(__name__)


def _normalised(flux: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.median(flux)
    return flux / scale, np.sqrt(variance) / scale


def _visit_curves(
    lightcurves: xr.Dataset, visit: int, regressors: dict[str, tuple[str, ...]]
) -> VisitCurves:
    flux = lightcurves["flux"].values[visit]
    variance = lightcurves["variance"].values[visit]
    fgs1 = _normalised(flux[:, 0], variance[:, 0])
    airs = _normalised(flux[:, 1:].sum(axis=1), variance[:, 1:].sum(axis=1))
    return VisitCurves(
        time_h=lightcurves["time"].values[visit],
        flux={"FGS1": fgs1[0], "AIRS-CH0": airs[0]},
        sigma={"FGS1": fgs1[1], "AIRS-CH0": airs[1]},
        regressors={
            ins: [lightcurves[name].values[visit] for name in names]
            for ins, names in regressors.items()
        },
    )


def _channel(lightcurves: xr.Dataset, channel: int, designs: list[np.ndarray]) -> ChannelData:
    pairs = [
        _normalised(lightcurves["flux"].values[v, :, channel],
                    lightcurves["variance"].values[v, :, channel])
        for v in range(lightcurves.sizes["visit"])
    ]  # fmt: skip
    return ChannelData([p[0] for p in pairs], [p[1] for p in pairs], designs)


def fit_planet(
    lightcurves: xr.Dataset, star: Mapping[str, float], options: FitOptions | None = None
) -> xr.Dataset:
    """Depth (Rp/Rs)^2 and sigma for the 283 channels of one planet.

    ``star`` is the planet's star_info row (P in days, sma in stellar radii, i in degrees),
    used as the starting point and prior of the geometry.
    """
    options = options or FitOptions()
    n_visits = lightcurves.sizes["visit"]
    visits = [_visit_curves(lightcurves, v, options.regressors) for v in range(n_visits)]
    white = fit_white_light(visits, float(star["sma"]), float(star["i"]), float(star["P"]), options)
    geometry = white.geometry
    curves = [TransitCurve(v.time_h, geometry.t0_h[k], geometry) for k, v in enumerate(visits)]
    designs = {
        ins: [systematics_design(v.time_h, v.regressors[ins], options) for v in visits]
        for ins in options.regressors
    }
    u_airs = white.limb_darkening["AIRS-CH0"]
    airs_designs = [
        common_mode_design(
            fitted_baseline(
                v.flux["AIRS-CH0"], v.sigma["AIRS-CH0"],
                curves[k].flux(white.depth["AIRS-CH0"], *u_airs), designs["AIRS-CH0"][k],
            ),
            v.time_h, options.chromatic_drift_degree,
        )
        for k, v in enumerate(visits)
    ]  # fmt: skip
    wavelength = lightcurves["wavelength"].values
    n_channels = len(wavelength)
    fits = [fit_depth(_channel(lightcurves, 0, designs["FGS1"]), curves,
                      *white.limb_darkening["FGS1"], white.depth["FGS1"], options)]  # fmt: skip
    airs = [_channel(lightcurves, c, airs_designs) for c in range(1, n_channels)]
    u1 = fit_limb_darkening_slope(
        airs, curves, wavelength[1:], u_airs, white.depth["AIRS-CH0"], options
    )
    fits += [
        fit_depth(data, curves, u1[k], u_airs[1], white.depth["AIRS-CH0"], options)
        for k, data in enumerate(airs)
    ]
    # Geometry and limb-darkening errors shift every depth of an instrument together; the
    # per-channel fits hold them fixed, so add the white-light depth error in quadrature
    # (for FGS1, a single channel, the joint fit's own error is the whole story).
    sigma = np.array([f.sigma for f in fits])
    sigma[0] = max(sigma[0], white.depth_sigma["FGS1"] * fits[0].beta)
    sigma[1:] = np.hypot(sigma[1:], white.depth_sigma["AIRS-CH0"])
    log.info(
        "t0 %s h, a/Rs %.2f, i %.2f deg, white depths FGS1 %.5f AIRS %.5f, median sigma %.1f ppm",
        np.round(geometry.t0_h, 3), geometry.sma, geometry.inclination, white.depth["FGS1"],
        white.depth["AIRS-CH0"], np.median(sigma) * 1e6,
    )  # fmt: skip
    return xr.Dataset(
        {
            "depth": ("channel", [f.depth for f in fits], {"long_name": "(Rp/Rs)^2"}),
            "sigma": ("channel", sigma, {"long_name": "1-sigma of depth"}),
            "chi2_reduced": ("channel", [f.chi2_reduced for f in fits]),
            "beta": ("channel", [f.beta for f in fits], {"long_name": "red-noise factor"}),
            "limb_darkening_u1": ("channel", np.r_[white.limb_darkening["FGS1"][0], u1]),
        },
        coords={"channel": np.arange(n_channels), "wavelength": ("channel", wavelength)},
        attrs={
            "title": "SpectraMind V50 physics fit",
            "t0_h": json.dumps(geometry.t0_h.tolist()),
            "sma": geometry.sma,
            "inclination": geometry.inclination,
            "white_depth": json.dumps(white.depth),
            "limb_darkening_white": json.dumps(white.limb_darkening),
            "options": json.dumps(options.as_dict(), sort_keys=True),
            "software": f"spectramind {__version__}",
        },
    )
