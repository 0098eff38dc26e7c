"""A spectral prior learned from training labels, and the Gaussian posterior that combines it
with one planet's per-bin depth fit.

Model of a transit-depth spectrum x (one value per bin):

    x = level * 1 + mean_shape + components^T c + r,
    c ~ N(0, diag(variances)),  r ~ GP(squared exponential in wavelength) + diag(v).

The level has a flat (improper) prior because planets' depths span two decades; it is
marginalised exactly (Rasmussen & Williams 2006, GPML section 2.7, vague-prior limit) rather
than given a huge variance, which would wreck the conditioning at depths ~1e-2 and sigmas
~1e-5. Everything else is learned from the level-removed training spectra: PCA for the
components, maximum marginal likelihood for the GP and the nugget. The out-of-span variance v
(per bin, at least the nugget) is what the GP and nugget, fitted in sample, leave out of
spectra the prior never saw: K-fold cross-validation over the labels measures it.

A planet unlike every training label (a band no label had) conflicts with that prior, and the
posterior would crush the band towards the prior's mean. ``guarded_posterior`` first tests the
data-alone depths against the prior's predictive (globally, in windows of neighbouring bins,
and at each known molecular band, ``absorbers.MOLECULAR_BANDS``) and drops the prior where
they conflict (Evans & Moshonov 2006, prior-data conflict).

A band too faint for that test is one the labels could not have taught either: the
posterior adds an unmodelled-feature term, a squared-exponential GP at molecular band scale
(feature_amplitude, feature_length_um), so such a band is not claimed known to the labels'
precision. The test leaves it out: it asks whether the planet is like the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, qr, solve_triangular
from scipy.optimize import minimize, minimize_scalar
from scipy.stats import chi2

from spectramind.fit.absorbers import band_profiles

NUGGET_FLOOR = 1e-12  # (1 ppm)^2: keeps the prior positive-definite on noise-free labels
_LENGTH_GRID = 12  # SE lengths tried before the bounded refinement
# (log amplitude, log nugget excess) in units of the residual rms and its square
_AMP_NUGGET_BOUNDS = [(-15.0, 8.0), (-30.0, 3.0)]
CV_FOLDS = 5  # folds of the out-of-span variance's cross-validation
# Widths (bins) of the windows the conflict test scans: a CO2 band (~0.12 um FWHM) spans ~15
# AIRS channels, a narrow line a few.
CONFLICT_WIDTHS = (4, 8, 16, 32)
GAP_FACTOR = 5  # a step this many times the median spacing splits the bins into stretches
# The unmodelled-feature term: its length is the narrowest molecular band AIRS-CH0 resolves
# (CO2's 2.7 um band, 0.05 um 1-sigma, 0.12 um FWHM); its amplitude the largest that moves the
# demo's physics score by < 0.005 (30 ppm: -0.003 on its test planets, -0.002 cross-fitted
# on its train planets; 40 ppm: -0.005). At the demo's noise (~470 ppm per AIRS bin) a 300 ppm
# CO2 band comes back within 2 sigma only from 200 ppm on, which costs 0.054 of that score and
# lowers even the injected planet's own score (0.62 -> 0.56).
FEATURE_AMPLITUDE = 30e-6
FEATURE_LENGTH_UM = 0.05
_ARRAY_FIELDS = ("wavelength", "mean_shape", "components", "variances", "out_of_span_variance")
_SCALAR_FIELDS = ("gp_amplitude", "gp_length_um", "nugget")
_FEATURE_FIELDS = ("feature_amplitude", "feature_length_um")


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
    # (n_bins,) variance outside the span, > 0; None (older priors): the nugget in every bin
    out_of_span_variance: np.ndarray | None = None
    # The unmodelled-feature GP the posterior adds (0: none, as in priors written before it)
    feature_amplitude: float = 0.0
    feature_length_um: float = FEATURE_LENGTH_UM

    def __post_init__(self) -> None:
        for name in (*_SCALAR_FIELDS, *_FEATURE_FIELDS):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.out_of_span_variance is None:
            nuggets = np.full(np.shape(self.wavelength), self.nugget)
            object.__setattr__(self, "out_of_span_variance", nuggets)
        for name in _ARRAY_FIELDS:
            array = np.array(getattr(self, name), dtype=float)
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        self._validate()

    def _validate(self) -> None:
        self._validate_scalars()
        self._validate_arrays()

    def _validate_scalars(self) -> None:
        for name in ("gp_amplitude", "feature_amplitude"):
            value = getattr(self, name)
            if not 0 <= value < np.inf:  # the chained test also rejects NaN
                raise ValueError(f"SpectralPrior.{name} must be finite and >= 0, got {value}")
        for name in (*_SCALAR_FIELDS[1:], "feature_length_um"):
            value = getattr(self, name)
            if not 0 < value < np.inf:
                raise ValueError(f"SpectralPrior.{name} must be finite and > 0, got {value}")

    def _validate_arrays(self) -> None:
        n_bins = self.wavelength.size
        k = self.components.shape[0] if self.components.ndim == 2 else self.variances.size
        expected = {
            "wavelength": (n_bins,),
            "mean_shape": (n_bins,),
            "components": (k, n_bins),
            "variances": (k,),
            "out_of_span_variance": (n_bins,),
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
        if np.any(self.out_of_span_variance <= 0):
            raise ValueError("SpectralPrior.out_of_span_variance must be > 0 in every bin")

    def covariance(self) -> np.ndarray:
        """(n_bins, n_bins) prior covariance of the level-removed spectrum."""
        pca = self.components.T @ (self.variances[:, None] * self.components)
        gp = squared_exponential(self.wavelength, self.gp_amplitude, self.gp_length_um)
        return pca + gp + np.diag(self.out_of_span_variance)

    def feature_covariance(self) -> np.ndarray:
        """(n_bins, n_bins) covariance of the unmodelled features the posterior allows for."""
        return squared_exponential(self.wavelength, self.feature_amplitude, self.feature_length_um)

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
            "out_of_span_variance": self.out_of_span_variance.tolist(),
            "feature_amplitude": self.feature_amplitude,
            "feature_length_um": self.feature_length_um,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SpectralPrior:
        """Inverse of to_dict; ValueError naming a missing key or a wrong-shaped field. A dict
        written before out_of_span_variance existed reads as the nugget in every bin, one
        written before the feature term as no feature term."""
        missing = [name for name in (*_ARRAY_FIELDS[:-1], *_SCALAR_FIELDS) if name not in data]
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
            out_of_span_variance=data.get("out_of_span_variance"),
            feature_amplitude=data.get("feature_amplitude", 0.0),
            feature_length_um=data.get("feature_length_um", FEATURE_LENGTH_UM),
        )


def learn_spectral_prior(
    labels: np.ndarray,
    wavelength: np.ndarray,
    n_components: int = 6,
    folds: int = CV_FOLDS,
    feature_amplitude: float = FEATURE_AMPLITUDE,
) -> SpectralPrior:
    """Learn the prior from labels (n_planets, n_bins) of true depths at wavelength (um); its
    out-of-span variance from ``folds``-fold cross-validation over the labels; the
    unmodelled-feature term of ``feature_amplitude`` at FEATURE_LENGTH_UM, what no label can
    teach (a band none of them has)."""
    labels, wavelength = _checked_labels(labels, wavelength, n_components)
    shapes = labels - labels.mean(axis=1, keepdims=True)
    mean_shape, components, variances = _principal_components(shapes, n_components)
    amplitude, length, nugget = _fit_residual_gp(shapes - mean_shape, components, wavelength)
    gp = squared_exponential(wavelength, amplitude, length)
    out_of_span = _cross_validated_out_of_span(shapes, n_components, gp, nugget, folds)
    return SpectralPrior(
        wavelength,
        mean_shape,
        components,
        variances,
        amplitude,
        length,
        nugget,
        out_of_span,
        feature_amplitude,
    )


def _principal_components(
    shapes: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (n_bins,), the leading n_components principal directions (k, n_bins) and their
    variances (k,) of the level-removed spectra (n_planets, n_bins)."""
    mean_shape = shapes.mean(axis=0)
    _, singular, vt = np.linalg.svd(shapes - mean_shape, full_matrices=False)
    variances = singular[:n_components] ** 2 / (len(shapes) - 1)
    return mean_shape, _fix_signs(vt[:n_components]), variances


def _cross_validated_out_of_span(
    shapes: np.ndarray, n_components: int, gp: np.ndarray, nugget: float, folds: int
) -> np.ndarray:
    """Per-bin variance (n_bins,) of what a prior learned without a fold misses of the fold's
    level-removed spectra: the held-out residual outside that prior's span (level + mean +
    components), beyond what the GP and nugget predict of it, plus the nugget.

    The GP and nugget are fitted in sample, where the components have already soaked up
    each label's own quirks; held-out spectra show what the span really leaves out, bin by
    bin (a band some labels have and others lack, a wing the components miss)."""
    n_planets, n_bins = shapes.shape
    order = np.random.default_rng(0).permutation(n_planets)  # fixed: the prior is reproducible
    observed, predicted = np.zeros(n_bins), np.zeros(n_bins)
    for held_out in np.array_split(order, min(folds, n_planets)):
        rest = np.setdiff1d(order, held_out)
        mean_shape, components, _ = _principal_components(
            shapes[rest], min(n_components, len(rest) - 1)
        )
        spanned, _ = qr(np.column_stack([np.ones(n_bins), components.T]), mode="economic")
        residual = shapes[held_out] - mean_shape
        residual -= (residual @ spanned) @ spanned.T
        observed += np.sum(residual**2, axis=0)
        predicted += len(held_out) * _projected_diagonal(gp + nugget * np.eye(n_bins), spanned)
    return nugget + np.clip((observed - predicted) / n_planets, 0.0, None)


def _projected_diagonal(covariance: np.ndarray, spanned: np.ndarray) -> np.ndarray:
    """diag(P C P) with P = I - Q Q^T the projector off the orthonormal columns Q."""
    projected = covariance - spanned @ (spanned.T @ covariance)
    projected -= (projected @ spanned) @ spanned.T
    return np.diag(projected).copy()


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
    measurement covariance (n_bins, n_bins), the level marginalised under a flat prior, the
    unmodelled-feature term added to the learned prior."""
    depth, covariance = _checked_measurement(prior, depth, covariance)
    p0 = prior.covariance() + prior.feature_covariance()
    ones = np.ones(depth.size)
    factor = _cholesky(p0 + covariance)
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


def _cholesky(predictive: np.ndarray) -> tuple[np.ndarray, bool]:
    """Lower Cholesky factor of prior + measurement covariance, or a ValueError saying why."""
    try:
        return cho_factor(predictive, lower=True)
    except LinAlgError as error:
        raise ValueError(
            "measurement covariance is not positive-definite: prior + measurement has no "
            "Cholesky factor"
        ) from error


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class SpectralPosterior:
    """guarded_posterior's answer: mean and sigma (n_bins,), whether the data conflicted with
    the prior, the bins where the prior was dropped, and the statistic: the smallest
    Bonferroni-adjusted p-value of the conflict tests on all bins (NaN when not tested)."""

    mean: np.ndarray
    sigma: np.ndarray
    conflict: bool
    conflict_bins: np.ndarray  # (n_bins,) bool
    statistic: float


class _Window(NamedTuple):
    """A run of neighbouring bins the conflict test scans: its bins and a Gaussian bump
    across it (n_bins,), the smooth feature to match."""

    bins: np.ndarray
    bump: np.ndarray


def guarded_posterior(
    prior: SpectralPrior, depth: np.ndarray, covariance: np.ndarray, p_value: float | None
) -> SpectralPosterior:
    """The posterior, or the data alone where the data-alone depths conflict with the
    learned prior's predictive at false-alarm probability ``p_value`` (None: no test, the
    plain posterior).

    The test leaves the unmodelled-feature term out: it asks whether the planet is like the
    labels, and that term, wide at band scale, would hide the very bands it must catch (at
    200 ppm a 1000 ppm CO2 feature no longer conflicts).

    A conflict drops the prior for the whole planet: a molecule the labels never had shows
    its strongest band, but its weaker bands elsewhere are too faint to test and the prior
    would crush them (measured on the inject-recover chain: freeing only the conflicted
    windows recovered 467 +- 63 ppm of a 1000 ppm CO2 feature)."""
    depth, covariance = _checked_measurement(prior, depth, covariance)
    if p_value is None:
        no_test = np.zeros(depth.size, dtype=bool)
        return SpectralPosterior(*posterior(prior, depth, covariance), False, no_test, np.nan)
    if not 0 < p_value < 1:
        raise ValueError(f"the prior-conflict p_value must lie in (0, 1), got {p_value}")
    windows = _windows(prior.wavelength)
    absorbers = band_profiles(prior.wavelength)  # ~0 in FGS1, far from every band
    statistic = _conflict_p_value(
        prior.covariance(), prior.mean_shape, depth, covariance, windows, absorbers
    )
    if statistic >= p_value:
        clear = np.zeros(depth.size, dtype=bool)
        return SpectralPosterior(*posterior(prior, depth, covariance), False, clear, statistic)
    every_bin = np.ones(depth.size, dtype=bool)
    return SpectralPosterior(depth, np.sqrt(np.diag(covariance)), True, every_bin, statistic)


def _windows(wavelength: np.ndarray) -> list[_Window]:
    """Runs of neighbours in wavelength of each width in CONFLICT_WIDTHS, overlapping by
    half, the last flush with the red end, inside each stretch without a gap (FGS1's bin is
    no neighbour of AIRS's first channel)."""
    order = np.argsort(wavelength, kind="stable")
    steps = np.diff(wavelength[order])
    gaps = np.flatnonzero(steps > GAP_FACTOR * np.median(steps)) + 1
    return [
        window
        for stretch in np.split(order, gaps)
        for width in CONFLICT_WIDTHS
        if width < stretch.size
        for window in _stretch_windows(stretch, width, wavelength.size)
    ]


def _stretch_windows(stretch: np.ndarray, width: int, n_bins: int) -> list[_Window]:
    """The windows of one width over one stretch of bins (in wavelength order)."""
    size = stretch.size
    starts = np.unique(np.r_[np.arange(0, size - width, width // 2), size - width])
    windows = []
    for start in starts:
        bins = stretch[start : start + width]
        bump = np.zeros(n_bins)
        bump[bins] = np.exp(-0.5 * ((np.arange(width) - (width - 1) / 2) / (width / 4)) ** 2)
        windows.append(_Window(bins, bump))
    return windows


def _conflict_p_value(
    p0: np.ndarray,
    mean_shape: np.ndarray,
    depth: np.ndarray,
    covariance: np.ndarray,
    windows: list[_Window],
    absorbers: np.ndarray,
) -> float:
    """Smallest weighted-Bonferroni-adjusted p-value of the depths against the prior's
    predictive (level marginalised). Blind tests: the global chi2 (n_bins - 1 dof); per
    window, its bins given every other bin (chi2, one dof per bin) and the bump's matched
    filter (chi2, 1 dof). Targeted tests: the matched filter of each molecular band's
    profile (``absorbers``, (bands, bins)). Each family gets half the false-alarm budget:
    the few bands fixed by physics need far less signal than hundreds of blind windows (a
    300 ppm CO2 band at the real cadence: 6.4 sigma in its template, 4.5 in the best window,
    missed by the blind scan alone)."""
    precision = _level_projected_precision(p0 + covariance)
    residual = depth - mean_shape
    scores = precision @ residual  # ~ N(0, precision) under the prior
    bumps = np.array([w.bump for w in windows]).reshape(len(windows), depth.size)
    blind = chi2.sf(
        np.r_[
            scores @ residual,
            _block_statistics(precision, scores, [w.bins for w in windows]),
            _matched_filter(precision, scores, bumps),
        ],
        np.r_[depth.size - 1, [w.bins.size for w in windows], np.ones(len(windows))],
    )
    targeted = chi2.sf(_matched_filter(precision, scores, absorbers), 1)
    p = np.r_[blind * 2 * blind.size, targeted * 2 * targeted.size]
    return min(1.0, float(p.min()))


def _matched_filter(precision: np.ndarray, scores: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """(shape . scores)^2 / (shape^T precision shape) for each row of ``shapes``: chi2 with
    1 dof under the prior's predictive."""
    return (shapes @ scores) ** 2 / np.sum((shapes @ precision) * shapes, axis=1)


def _block_statistics(
    precision: np.ndarray, scores: np.ndarray, blocks: list[np.ndarray]
) -> np.ndarray:
    """scores_W^T precision_WW^-1 scores_W for each block W of indices, solved in batches of
    blocks of one size: the chi2 of the block's data given all the others'."""
    statistics = np.empty(len(blocks))
    sizes = np.array([b.size for b in blocks], dtype=int)
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        rows = np.array([blocks[k] for k in which])  # (m, size)
        solved = np.linalg.solve(
            precision[rows[:, :, None], rows[:, None, :]], scores[rows][..., None]
        )
        statistics[which] = np.sum(scores[rows] * solved[..., 0], axis=1)
    return statistics


def _level_projected_precision(predictive: np.ndarray) -> np.ndarray:
    """K^-1 - K^-1 1 1^T K^-1 / (1^T K^-1 1): the precision of the data with the flat level
    projected out (Pi K Pi = Pi, Pi 1 = 0)."""
    inverse = cho_solve(_cholesky(predictive), np.eye(predictive.shape[0]))
    k_inv_h = inverse.sum(axis=1)
    return inverse - np.outer(k_inv_h, k_inv_h) / k_inv_h.sum()


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
