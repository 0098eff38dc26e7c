"""Per-planet model inputs from the workflow's results: light curves resampled to a fixed
number of steps on each instrument's own time axis, beside the transit the physics fit found
in them, the physics fit's summary, the star.

The physics fit a sample carries (``physics_mu``, ``physics_sigma``) is what the model
corrects; for training planets it must not have seen their own labels (see
``spectramind.fit.cross_fit``), or the model would learn to trust it too much.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from spectramind.fit.model import Geometry, TransitCurve

STAR_FEATURES = ("Rs", "Ms", "Ts", "Mp", "P", "sma", "i")
FGS1_REGRESSORS = ("fgs1_centroid_x", "fgs1_centroid_y")
# Per time step: the FGS1 white light and the transit the fit found in it, the standardised
# centroids, the AIRS white light and its transit (light curves relative, in noise units).
LIGHT_CURVE_NAMES = (
    "fgs1_flux", "fgs1_transit", *FGS1_REGRESSORS, "airs_white_flux", "airs_white_transit",
)  # fmt: skip
LIGHT_CURVE_FEATURES = len(LIGHT_CURVE_NAMES)
# (flux, its fitted transit) index pairs in PlanetSample.fgs1: FGS1, AIRS white light.
WHITE_LIGHT_PAIRS = tuple(
    (LIGHT_CURVE_NAMES.index(f"{name}_flux"), LIGHT_CURVE_NAMES.index(f"{name}_transit"))
    for name in ("fgs1", "airs_white")
)
# Per planet, from the fit (see fit_summary).
FIT_SUMMARY_NAMES = (
    "impact_parameter", "ln_sma", "t0_in_visit", "ln_beta_fgs1", "ln_beta_airs",
    "ln_chi2_airs", "white_depth_difference", "prior_pull_fgs1", "ln_relative_sigma_fgs1",
)  # fmt: skip
FIT_SUMMARY_FEATURES = len(FIT_SUMMARY_NAMES)


@dataclass
class PlanetSample:
    """Tensors of one planet. fgs1 (LIGHT_CURVE_FEATURES, steps): the FGS1 white light and
    the transit the fit found in it, the standardised centroids, the AIRS white light and its
    fitted transit; airs (282, 1, steps): each channel's relative flux in units of its noise;
    nodes (282, 3): the fit's data-only depth minus the physics mu over the physics sigma,
    log sigma ratio, scaled wavelength; star (7,) log catalogue values; fit_summary
    (FIT_SUMMARY_FEATURES,); physics_mu, physics_sigma (283,); truth (283,) or None."""

    planet_id: int
    fgs1: torch.Tensor
    airs: torch.Tensor
    nodes: torch.Tensor
    star: torch.Tensor
    fit_summary: torch.Tensor
    physics_mu: torch.Tensor
    physics_sigma: torch.Tensor
    truth: torch.Tensor | None = None


def resample(time: np.ndarray, values: np.ndarray, steps: int) -> np.ndarray:
    """Mean of ``values`` (time, ...) in ``steps`` equal bins spanning ``time``; an empty
    bin takes its neighbour's value (linear interpolation of the bin means)."""
    edges = np.linspace(time[0], time[-1] + 1e-9, steps + 1)
    index = np.clip(np.searchsorted(edges, time, side="right") - 1, 0, steps - 1)
    sums = np.zeros((steps, *values.shape[1:]))
    np.add.at(sums, index, values)
    counts = np.bincount(index, minlength=steps).astype(float)
    filled = counts > 0
    means = sums[filled] / counts[filled].reshape(-1, *([1] * (values.ndim - 1)))
    centres = 0.5 * (edges[:-1] + edges[1:])
    flat = means.reshape(filled.sum(), -1)
    out = np.column_stack(
        [np.interp(centres, centres[filled], flat[:, k]) for k in range(flat.shape[1])]
    )
    return out.reshape(steps, *values.shape[1:])


def _relative(flux: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flux / median - 1) / its typical relative noise (transit and drift in noise units),
    and that noise."""
    level = np.median(flux, axis=0)
    noise = np.median(np.sqrt(variance), axis=0) / level
    return (flux / level - 1.0) / noise, noise


def _first_visit_t0(fit: xr.Dataset) -> float:
    """The fit's transit mid-time (h) in the first visit (attribute t0_h: JSON, per visit)."""
    return float(json.loads(fit.attrs["t0_h"])[0])


def fitted_transits(
    lightcurves: xr.Dataset, fit: xr.Dataset, period_d: float
) -> dict[str, np.ndarray]:
    """The white-light transit (model flux - 1) the fit found, per instrument on its own time
    axis of the first visit: geometry, white depth and limb darkening from the fit file."""
    white_depth = json.loads(fit.attrs["white_depth"])
    limb_darkening = json.loads(fit.attrs["limb_darkening_white"])
    t0 = _first_visit_t0(fit)
    geometry = Geometry(np.array([t0]), float(fit.attrs["sma"]), float(fit.attrs["inclination"]),
                        period_d)  # fmt: skip
    out = {}
    for instrument, axis in (("FGS1", "fgs1_time"), ("AIRS-CH0", "airs_time")):
        curve = TransitCurve(lightcurves[axis].values[0], t0, geometry)
        out[instrument] = curve.flux(white_depth[instrument], *limb_darkening[instrument]) - 1.0
    return out


def fit_summary(
    fit: xr.Dataset, time_h: np.ndarray, physics_mu: np.ndarray, physics_sigma: np.ndarray
) -> np.ndarray:
    """FIT_SUMMARY_NAMES of one planet's fit (what its depths rest on): impact parameter,
    ln a/Rs, transit mid-time within the visit, ln beta (FGS1; mean AIRS), ln mean AIRS chi2,
    AIRS minus FGS1 white depth and the prior's pull on FGS1 (in FGS1 sigmas), ln relative
    FGS1 precision."""
    sma, inclination = float(fit.attrs["sma"]), float(fit.attrs["inclination"])
    t0 = _first_visit_t0(fit)
    white = json.loads(fit.attrs["white_depth"])
    beta, chi2 = fit["beta"].values, fit["chi2_reduced"].values
    sigma_fgs1 = physics_sigma[0]
    return np.array(
        [
            sma * np.cos(np.radians(inclination)),
            np.log(sma),
            (t0 - time_h.mean()) / np.ptp(time_h),
            np.log(beta[0]),
            np.log(np.mean(beta[1:])),
            np.log(np.nanmean(chi2[1:])),
            (white["AIRS-CH0"] - white["FGS1"]) / sigma_fgs1,
            (fit["fit_depth"].values[0] - physics_mu[0]) / sigma_fgs1,
            np.log(sigma_fgs1 / max(abs(physics_mu[0]), 1e-6)),
        ]
    )


def _float32(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(values), dtype=torch.float32)


def _standardised(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def planet_sample(
    planet_id: int,
    lightcurves: xr.Dataset,
    fit: xr.Dataset,
    star: Mapping[str, float],
    physics_mu: np.ndarray,
    physics_sigma: np.ndarray,
    steps: int,
    truth: np.ndarray | None = None,
) -> PlanetSample:
    """One planet's sample from its light curves (first visit), fit file and star row."""
    flux, variance = lightcurves["flux"].values[0], lightcurves["variance"].values[0]
    fgs1_time, airs_time = lightcurves["fgs1_time"].values[0], lightcurves["airs_time"].values[0]
    regressors = [_standardised(lightcurves[name].values[0]) for name in FGS1_REGRESSORS]
    transits = fitted_transits(lightcurves, fit, float(star["P"]))
    fgs1_flux, fgs1_noise = _relative(flux[:, 0], variance[:, 0])
    white_flux, white_noise = _relative(flux[:, 1:].sum(axis=1), variance[:, 1:].sum(axis=1))
    fgs1 = np.column_stack([fgs1_flux, transits["FGS1"] / fgs1_noise, *regressors])
    white = np.column_stack([white_flux, transits["AIRS-CH0"] / white_noise])
    airs, _ = _relative(flux[:, 1:], variance[:, 1:])
    wavelength = lightcurves["wavelength"].values[1:]
    nodes = np.column_stack(
        [
            (fit["fit_depth"].values[1:] - physics_mu[1:]) / physics_sigma[1:],
            np.log(physics_sigma[1:] / np.median(physics_sigma[1:])),
            (wavelength - wavelength.mean()) / np.ptp(wavelength),
        ]
    )
    return PlanetSample(
        planet_id=planet_id,
        fgs1=_float32(
            np.vstack([resample(fgs1_time, fgs1, steps).T, resample(airs_time, white, steps).T])
        ),
        airs=_float32(resample(airs_time, airs, steps).T[:, None, :]),
        nodes=_float32(nodes),
        star=_float32(np.log(np.abs([float(star[k]) for k in STAR_FEATURES]) + 1e-9)),
        fit_summary=_float32(fit_summary(fit, fgs1_time, physics_mu, physics_sigma)),
        physics_mu=torch.tensor(physics_mu, dtype=torch.float64),
        physics_sigma=torch.tensor(physics_sigma, dtype=torch.float64),
        truth=None if truth is None else torch.tensor(truth, dtype=torch.float64),
    )


def planet_samples(
    planet_ids: Sequence[int],
    lightcurve_paths: Sequence[str | Path],
    fits: Sequence[xr.Dataset],
    stars: pd.DataFrame,
    physics_mu: np.ndarray,
    physics_sigma: np.ndarray,
    steps: int,
    truth: np.ndarray | None = None,
) -> list[PlanetSample]:
    """``planet_sample`` of each planet, its light curves read from ``lightcurve_paths`` and
    its star row from ``stars`` (indexed by planet id); rows of the arrays follow the ids."""
    return [
        planet_sample(planet_id, xr.load_dataset(path), fits[k], stars.loc[planet_id],
                      physics_mu[k], physics_sigma[k], steps,
                      None if truth is None else truth[k])
        for k, (planet_id, path) in enumerate(zip(planet_ids, lightcurve_paths, strict=True))
    ]  # fmt: skip


def synthetic_samples(n: int, seed: int, steps: int) -> list[PlanetSample]:
    """``n`` planets with the real tensor shapes and random content whose truth sits 0.8
    physics sigma from the physics mu along node feature 0: a learnable signal for tests and
    benchmarks that need no simulation."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for k in range(n):
        nodes = torch.randn(282, 3, generator=g)
        mu = 0.01 + 1e-4 * torch.randn(283, generator=g, dtype=torch.float64)
        sigma = torch.full((283,), 1e-4, dtype=torch.float64)
        shift = torch.cat([torch.zeros(1), nodes[:, 0]]).double()
        out.append(
            PlanetSample(
                planet_id=k,
                fgs1=torch.randn(LIGHT_CURVE_FEATURES, steps, generator=g),
                airs=torch.randn(282, 1, steps, generator=g),
                nodes=nodes,
                star=torch.randn(len(STAR_FEATURES), generator=g),
                fit_summary=torch.randn(FIT_SUMMARY_FEATURES, generator=g),
                physics_mu=mu,
                physics_sigma=sigma,
                truth=mu + 0.8 * sigma * shift,
            )
        )
    return out
