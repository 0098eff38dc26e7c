"""A spectral prior learned from training labels, and the Gaussian posterior that combines it
with one planet's per-bin depth fit.

Model of a transit-depth spectrum x (one value per bin):

    x = level * 1 + mean_shape + components^T c + r,
    c ~ N(0, diag(variances)),  r ~ GP(squared exponential in wavelength) + nugget * I.

The level has a flat (improper) prior because planets' depths span two decades; it is
marginalised exactly (Rasmussen & Williams 2006, GPML section 2.7, vague-prior limit) rather
than given a huge variance, which would wreck the conditioning at depths ~1e-2 and sigmas
~1e-5. Everything else is learned from the level-removed training spectra: PCA for the
components, maximum marginal likelihood for the GP and the nugget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, qr, solve_triangular
from scipy.optimize import minimize, minimize_scalar

NUGGET_FLOOR = 1e-12  # (1 ppm)^2: keeps the prior positive-definite on noise-free labels
_LENGTH_GRID = 12  # SE lengths tried before the bounded refinement
# (log amplitude, log nugget excess) in units of the residual rms and its square
_AMP_NUGGET_BOUNDS = [(-15.0, 8.0), (-30.0, 3.0)]


def squared_exponential(wavelength: np.ndarray, amplitude: float, length_um: float) -> np.ndarray:
    """Squared-exponential covariance amplitude^2 exp(-d^2 / (2 length^2)) between bins."""
    d = wavelength[:, None] - wavelength[None, :]
    return amplitude**2 * np.exp(-0.5 * (d / length_um) ** 2)


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class SpectralPrior:
    """Prior of a level-removed spectrum: mean shape, PCA components, SE GP and nugget."""

    wavelength: np.ndarray  # (n_bins,) um
    mean_shape: np.ndarray  # (n_bins,)
    components: np.ndarray  # (k, n_bins), orthonormal rows
    variances: np.ndarray  # (k,) prior variance of each component's coefficient
    gp_amplitude: float
    gp_length_um: float
    nugget: float

    def __post_init__(self) -> None:
        for name in ("wavelength", "mean_shape", "components", "variances"):
            array = np.array(getattr(self, name), dtype=float)
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        for name in ("gp_amplitude", "gp_length_um", "nugget"):
            object.__setattr__(self, name, float(getattr(self, name)))
        self._validate()

    def _validate(self) -> None:
        n_bins = self.wavelength.size
        k = self.components.shape[0] if self.components.ndim == 2 else self.variances.size
        expected = {
            "wavelength": (n_bins,),
            "mean_shape": (n_bins,),
            "components": (k, n_bins),
            "variances": (k,),
        }
        for name, shape in expected.items():
            array = getattr(self, name)
            if array.shape != shape:
                raise ValueError(
                    f"SpectralPrior.{name} has shape {array.shape}, expected {shape} "
                    f"for {n_bins} wavelength bins and {k} components"
                )
            if not np.all(np.isfinite(array)):
                raise ValueError(f"SpectralPrior.{name} holds NaN or inf values")
        if np.any(self.variances < 0):
            raise ValueError("SpectralPrior.variances must be >= 0")
        if not 0 <= self.gp_amplitude < np.inf:  # the chained test also rejects NaN
            raise ValueError(
                f"SpectralPrior.gp_amplitude must be finite and >= 0, got {self.gp_amplitude}"
            )
        for name in ("gp_length_um", "nugget"):
            value = getattr(self, name)
            if not 0 < value < np.inf:
                raise ValueError(f"SpectralPrior.{name} must be finite and > 0, got {value}")

    def covariance(self) -> np.ndarray:
        """(n_bins, n_bins) prior covariance of the level-removed spectrum."""
        pca = self.components.T @ (self.variances[:, None] * self.components)
        gp = squared_exponential(self.wavelength, self.gp_amplitude, self.gp_length_um)
        return pca + gp + self.nugget * np.eye(self.wavelength.size)

    def to_dict(self) -> dict:
        """JSON-serialisable form; floats round-trip exactly through json."""
        return {
            "wavelength": self.wavelength.tolist(),
            "mean_shape": self.mean_shape.tolist(),
            "components": self.components.tolist(),
            "variances": self.variances.tolist(),
            "gp_amplitude": self.gp_amplitude,
            "gp_length_um": self.gp_length_um,
            "nugget": self.nugget,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SpectralPrior:
        """Inverse of to_dict; ValueError naming a missing key or a wrong-shaped field."""
        missing = [name for name in cls.__dataclass_fields__ if name not in data]
        if missing:
            raise ValueError(f"SpectralPrior dict lacks {', '.join(missing)}")
        return cls(
            wavelength=np.asarray(data["wavelength"], dtype=float),
            mean_shape=np.asarray(data["mean_shape"], dtype=float),
            components=np.asarray(data["components"], dtype=float),
            variances=np.asarray(data["variances"], dtype=float),
            gp_amplitude=data["gp_amplitude"],
            gp_length_um=data["gp_length_um"],
            nugget=data["nugget"],
        )


def learn_spectral_prior(
    labels: np.ndarray, wavelength: np.ndarray, n_components: int = 6
) -> SpectralPrior:
    """Learn the prior from labels (n_planets, n_bins) of true depths at wavelength (um)."""
    labels, wavelength = _checked_labels(labels, wavelength, n_components)
    shapes = labels - labels.mean(axis=1, keepdims=True)
    mean_shape = shapes.mean(axis=0)
    centred = shapes - mean_shape
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = _fix_signs(vt[:n_components])
    variances = singular[:n_components] ** 2 / (labels.shape[0] - 1)
    amplitude, length, nugget = _fit_residual_gp(centred, components, wavelength)
    return SpectralPrior(wavelength, mean_shape, components, variances, amplitude, length, nugget)


def _checked_labels(
    labels: np.ndarray, wavelength: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels, dtype=float)
    wavelength = np.asarray(wavelength, dtype=float)
    if wavelength.ndim != 1 or not np.all(np.isfinite(wavelength)):
        raise ValueError(f"wavelength must be 1-D and finite, got shape {wavelength.shape}")
    if labels.ndim != 2 or labels.shape[1] != wavelength.size:
        raise ValueError(
            f"labels must have shape (n_planets, {wavelength.size}) to match wavelength, "
            f"got {labels.shape}"
        )
    if not np.all(np.isfinite(labels)):
        rows = np.unique(np.nonzero(~np.isfinite(labels))[0])
        raise ValueError(f"labels hold NaN or inf values in rows {rows[:5].tolist()}")
    n_planets = labels.shape[0]
    if not 1 <= n_components <= min(n_planets - 1, wavelength.size - 2):
        raise ValueError(
            f"n_components={n_components} needs at least {n_components + 1} training planets "
            f"(got {n_planets}) and at most {wavelength.size - 2} for {wavelength.size} bins"
        )
    return labels, wavelength


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Make each component's largest entry positive so the learned prior is reproducible."""
    peaks = components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)]
    return components * np.sign(peaks)[:, None]


def _residual_basis(components: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n_bins, m) of the bins' space outside the level and the components."""
    spanned = np.column_stack([np.ones(components.shape[1]), components.T])
    q, _ = qr(spanned)
    return q[:, spanned.shape[1] :]


def _fit_residual_gp(
    centred: np.ndarray, components: np.ndarray, wavelength: np.ndarray
) -> tuple[float, float, float]:
    """Amplitude, length (um) and nugget maximising the marginal likelihood of the residuals
    left after the level and the components are projected out.

    The length is searched on a grid, then refined; for each length the amplitude and nugget
    are profiled out cheaply in the eigenbasis of the projected SE kernel."""
    basis = _residual_basis(components)
    projected = centred @ basis  # (n_planets, m)
    # Work in units of the residual variance so the optimisers see O(1) numbers.
    scale2 = max(float(np.mean(projected**2)), NUGGET_FLOOR)
    scatter = projected.T @ projected / scale2
    floor = NUGGET_FLOOR / scale2

    def profile(log_length: float) -> tuple[float, np.ndarray]:
        gp = squared_exponential(wavelength, 1.0, np.exp(log_length))
        eigenvalues, vectors = np.linalg.eigh(basis.T @ gp @ basis)
        spread = np.sum((scatter @ vectors) * vectors, axis=0)  # diag(V^T S V)
        args = (np.clip(eigenvalues, 0.0, None), spread, projected.shape[0], floor)
        start = np.array([-0.5 * np.log(np.mean(eigenvalues)), np.log(0.3)])
        result = minimize(
            _eigen_nll, start, args=args, jac=True, method="L-BFGS-B", bounds=_AMP_NUGGET_BOUNDS
        )
        return float(result.fun), result.x

    # Shorter than the bin spacing is a nugget; far beyond the span the kernel is a level.
    spacing = np.min(np.diff(np.unique(wavelength)))
    grid = np.log(np.geomspace(spacing, 10 * np.ptp(wavelength), _LENGTH_GRID))
    best = int(np.argmin([profile(log_length)[0] for log_length in grid]))
    bracket = (grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)])
    log_length = minimize_scalar(lambda t: profile(t)[0], bounds=bracket, method="bounded").x
    log_amp, log_extra = profile(log_length)[1]
    nugget = (floor + np.exp(log_extra)) * scale2
    return float(np.exp(log_amp) * np.sqrt(scale2)), float(np.exp(log_length)), float(nugget)


def _eigen_nll(
    theta: np.ndarray, eigenvalues: np.ndarray, spread: np.ndarray, n: int, floor: float
) -> tuple[float, np.ndarray]:
    """-log L (up to a constant) and its gradient in (log amplitude, log nugget excess) of n
    zero-mean vectors with covariance amp^2 G + nugget I, G = V diag(eigenvalues) V^T, given
    spread = diag(V^T S V) of their scatter matrix S."""
    amp2, excess = np.exp(2 * theta[0]), np.exp(theta[1])
    variance = amp2 * eigenvalues + floor + excess
    value = 0.5 * np.sum(n * np.log(variance) + spread / variance)
    d_variance = 0.5 * (n / variance - spread / variance**2)
    gradient = np.array([np.sum(d_variance * 2 * amp2 * eigenvalues), np.sum(d_variance) * excess])
    return float(value), gradient


def posterior(
    prior: SpectralPrior, depth: np.ndarray, covariance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and per-bin sigma of the spectrum given fitted depths (n_bins,) with
    measurement covariance (n_bins, n_bins), the level marginalised under a flat prior."""
    depth, covariance = _checked_measurement(prior, depth, covariance)
    p0 = prior.covariance()
    ones = np.ones(depth.size)
    try:
        factor = cho_factor(p0 + covariance, lower=True)
    except LinAlgError as error:
        raise ValueError(
            "measurement covariance is not positive-definite: prior + measurement has no "
            "Cholesky factor"
        ) from error
    k_inv_h = cho_solve(factor, ones)
    level_information = ones @ k_inv_h  # H^T K^-1 H
    residual = depth - prior.mean_shape
    level = (k_inv_h @ residual) / level_information  # GLS mean of the flat level
    mean = prior.mean_shape + level + p0 @ cho_solve(factor, residual - level)
    # P0 - P0 K^-1 P0 as P0 - A^T A with A = L^-1 P0: the subtracted term stays PSD.
    whitened = solve_triangular(factor[0], p0, lower=True)
    r = ones - p0 @ k_inv_h
    variance = np.diag(p0) - np.sum(whitened**2, axis=0) + r**2 / level_information
    return mean, np.sqrt(np.clip(variance, 0.0, None))  # clip: rounding on very precise data


def _checked_measurement(
    prior: SpectralPrior, depth: np.ndarray, covariance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n_bins = prior.wavelength.size
    depth = np.asarray(depth, dtype=float)
    covariance = np.asarray(covariance, dtype=float)
    if depth.shape != (n_bins,) or covariance.shape != (n_bins, n_bins):
        raise ValueError(
            f"depth {depth.shape} and covariance {covariance.shape} must be ({n_bins},) and "
            f"({n_bins}, {n_bins}) to match the prior's wavelength bins"
        )
    if not (np.all(np.isfinite(depth)) and np.all(np.isfinite(covariance))):
        raise ValueError("depth and covariance must be finite")
    if not np.allclose(covariance, covariance.T, rtol=0, atol=1e-10 * np.max(np.abs(covariance))):
        raise ValueError("measurement covariance must be symmetric")
    return depth, covariance
