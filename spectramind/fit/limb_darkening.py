"""Limb darkening across wavelength: quadratic (u1, u2) fitted on groups of AIRS channels,
smooth in wavelength for both coefficients, with a prior in wavelength and stellar
temperature learned from the training planets.

Limb darkening is nearly degenerate with the depth (both change the transit's depth and
curvature); a wrong law biases every depth of an instrument together. The training planets,
whose true depths are known, pin (u1, u2) down far better than any test planet can alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, minimize_scalar

from spectramind.fit.model import TransitCurve, projected_residuals
from spectramind.fit.options import LIMB_DARKENING_BOUNDS, FitOptions

REFERENCE_TEMPERATURE_K = 5800.0
BASIS = "1, x, x^2, t, x*t with x = ln(wavelength / 1 um), t = (Ts - 5800 K) / 1000 K"
TAU_BOUNDS = (1e-3, 1.0)  # search range of the prior's intrinsic scatter
BOUND_MARGIN = 1e-3  # a sample this close to a limb-darkening bound did not converge


def _basis(wavelength_um: np.ndarray, t_eff: np.ndarray) -> np.ndarray:
    x = np.log(np.asarray(wavelength_um, dtype=np.float64))
    t = (np.asarray(t_eff, dtype=np.float64) - REFERENCE_TEMPERATURE_K) / 1000.0
    x, t = np.broadcast_arrays(x, t)
    return np.column_stack([np.ones_like(x), x, x**2, t, x * t])


@dataclass(frozen=True)
class LimbDarkeningPrior:
    """(u1, u2) as a function of wavelength and stellar temperature (``BASIS``), and the
    scatter of the training planets' values about it (the prior's sigma)."""

    coefficients: np.ndarray  # (2, 5)
    sigma: np.ndarray  # (2,)
    n_samples: int

    def evaluate(self, wavelength_um: np.ndarray, t_eff: float) -> np.ndarray:
        """Prior mean (2, n) of (u1, u2) at ``wavelength_um`` for a star of ``t_eff``."""
        return self.coefficients @ _basis(wavelength_um, t_eff).T

    def to_dict(self) -> dict:
        return {
            "basis": BASIS,
            "coefficients": self.coefficients.tolist(),
            "sigma": self.sigma.tolist(),
            "n_samples": self.n_samples,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LimbDarkeningPrior:
        """Read ``to_dict`` output; a wrong basis or shape is a ValueError naming it."""
        if data.get("basis") != BASIS:
            raise ValueError(
                f"limb-darkening prior basis {data.get('basis')!r}, expected {BASIS!r}"
            )
        coefficients = np.asarray(data["coefficients"], dtype=np.float64)
        sigma = np.asarray(data["sigma"], dtype=np.float64)
        if coefficients.shape != (2, 5) or sigma.shape != (2,) or not np.all(sigma > 0):
            raise ValueError(
                f"limb-darkening prior needs coefficients (2, 5) and two positive sigmas, got "
                f"{coefficients.shape} and {sigma.tolist()}"
            )
        return cls(coefficients, sigma, int(data["n_samples"]))


def _fit_with_scatter(
    basis: np.ndarray, values: np.ndarray, sigmas: np.ndarray
) -> tuple[np.ndarray, float]:
    """Coefficients and intrinsic scatter tau of values = basis @ c + N(0, sigma^2 + tau^2),
    tau by maximum likelihood (the training fits' own noise is not the prior's width)."""

    def solve(log_tau: float) -> tuple[np.ndarray, float]:
        variance = sigmas**2 + np.exp(2 * log_tau)
        weight = 1.0 / np.sqrt(variance)
        coeffs, *_ = np.linalg.lstsq(basis * weight[:, None], values * weight, rcond=None)
        residual = values - basis @ coeffs
        return coeffs, float(0.5 * np.sum(residual**2 / variance + np.log(variance)))

    best = minimize_scalar(lambda t: solve(t)[1], bounds=np.log(TAU_BOUNDS), method="bounded")
    return solve(best.x)[0], float(np.exp(best.x))


def learn_limb_darkening_prior(
    wavelength_um: np.ndarray, t_eff: np.ndarray, u: np.ndarray, u_sigma: np.ndarray
) -> LimbDarkeningPrior:
    """(u1, u2) of training planets' groups, (n, 2) with sigmas, regressed on ``BASIS``
    with an intrinsic scatter (the prior's sigma) fitted alongside. Samples at the fit's
    limb-darkening bounds (where the fit stopped, not converged) are left out."""
    u, u_sigma = np.asarray(u, dtype=np.float64), np.asarray(u_sigma, dtype=np.float64)
    (u1_low, u1_high), (u2_low, u2_high) = LIMB_DARKENING_BOUNDS
    inside = (
        (u[:, 0] > u1_low + BOUND_MARGIN) & (u[:, 0] < u1_high - BOUND_MARGIN)
        & (u[:, 1] > u2_low + BOUND_MARGIN) & (u[:, 1] < u2_high - BOUND_MARGIN)
    )  # fmt: skip
    finite = np.isfinite(u).all(axis=1) & np.isfinite(u_sigma).all(axis=1)
    ok = inside & finite & (u_sigma > 0).all(axis=1)
    basis = _basis(np.asarray(wavelength_um)[ok], np.asarray(t_eff)[ok])
    if len(basis) < 2 * basis.shape[1]:
        raise ValueError(
            f"learning the limb-darkening prior needs at least {2 * basis.shape[1]} usable "
            f"(wavelength, Ts, u) samples, got {len(basis)}"
        )
    fits = [_fit_with_scatter(basis, u[ok, k], u_sigma[ok, k]) for k in range(2)]
    coefficients = np.array([c for c, _ in fits])
    sigma = np.array([tau for _, tau in fits])
    return LimbDarkeningPrior(coefficients, sigma, int(ok.sum()))


@dataclass
class GroupCurves:
    """Summed flux of a group of channels over all visits, normalised, with its designs."""

    flux: list[np.ndarray]
    sigma: list[np.ndarray]
    designs: list[np.ndarray]


def group_curves(
    flux: list[np.ndarray], sigma: list[np.ndarray], designs: list[np.ndarray], group: np.ndarray
) -> GroupCurves:
    """Mean of the normalised per-channel curves (visit: time, channels) of ``group``."""
    return GroupCurves(
        [f[:, group].mean(axis=1) for f in flux],
        [np.sqrt((s[:, group] ** 2).sum(axis=1)) / len(group) for s in sigma],
        designs,
    )


def fit_group(
    data: GroupCurves,
    curves: list[TransitCurve],
    depth: float | None,
    start: tuple[float, float, float],
    prior: tuple[np.ndarray, np.ndarray] | None,
    options: FitOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """(u1, u2) and their 2x2 covariance for one group: with the depth fixed (training
    planets, whose depth is known) or free and marginalised (``depth`` None); ``prior``:
    Gaussian (mean, sigma) on (u1, u2)."""

    def unpack(p: np.ndarray) -> tuple[float, float, float]:
        return (depth, p[0], p[1]) if depth is not None else (p[0], p[1], p[2])

    def residuals(p: np.ndarray) -> np.ndarray:
        d, u1, u2 = unpack(p)
        out = [
            projected_residuals(f, s, c.flux(d, u1, u2), x)
            for f, s, x, c in zip(data.flux, data.sigma, data.designs, curves, strict=True)
        ]
        if prior is not None:
            out.append((np.array([u1, u2]) - prior[0]) / prior[1])
        return np.concatenate(out)

    (u1_low, u1_high), (u2_low, u2_high) = LIMB_DARKENING_BOUNDS
    lower, upper = [u1_low, u2_low], [u1_high, u2_high]
    if depth is None:
        lower, upper = [1e-5, *lower], [options.max_depth, *upper]
    x0 = np.clip(start if depth is None else start[1:], np.add(lower, 1e-6), np.add(upper, -1e-6))
    fit = least_squares(residuals, x0, bounds=(lower, upper), x_scale="jac")
    covariance = np.linalg.pinv(fit.jac.T @ fit.jac)
    u_index = slice(0, 2) if depth is not None else slice(1, 3)
    return fit.x[u_index], covariance[u_index, u_index]


def smooth_in_wavelength(
    centres: np.ndarray,
    values: np.ndarray,
    covariances: np.ndarray,
    wavelength: np.ndarray,
    degree: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Polynomials in wavelength through the groups' (u1, u2) (values (groups, 2), 2x2
    covariances (groups, 2, 2)), by generalised least squares that keeps the strong u1-u2
    correlation of each group. Returns (2, channels) values at ``wavelength`` and a factor
    (2, channels, 2 (degree + 1)): the channels' (u1, u2) errors are factor @ z, z ~ N(0, I).
    """
    n_terms = degree + 1

    def design(x: np.ndarray) -> np.ndarray:  # (n, 2, 2 n_terms): u_k = powers @ theta_k
        powers = np.vander(x - centres.mean(), n_terms)
        out = np.zeros((len(x), 2, 2 * n_terms))
        out[:, 0, :n_terms], out[:, 1, n_terms:] = powers, powers
        return out

    groups = design(centres)
    weights = np.linalg.inv(covariances)
    information = np.einsum("gki,gkl,glj->ij", groups, weights, groups)
    theta_covariance = np.linalg.inv(information)
    theta = theta_covariance @ np.einsum("gki,gkl,gl->i", groups, weights, values)
    channels = design(np.asarray(wavelength, dtype=np.float64))
    root = np.linalg.cholesky(theta_covariance)
    return np.einsum("cki,i->kc", channels, theta), np.einsum("cki,ij->kcj", channels, root)
