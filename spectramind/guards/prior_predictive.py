"""The prior predictive: what the train planets say about a planet's depths from its star row
alone. A planet whose visit holds no transit tells nothing about its depth; this is the
prediction it gets, with a sigma that covers the spread of the population.

Level: log of the planet's mean depth, a ridge regression on standardised star features
(strength by closed-form leave-one-out), or the plain mean when the regression does not beat
it out of sample. Shape: per bin, the mean and spread of depth / mean depth. The two combine
into a Gaussian per bin with the moments of level times shape; the level's moments are those
of exp(prediction + r) over the leave-one-out residuals r (the lognormal moments without
assuming the residuals normal: a log level far from normal, e.g. uniform depths, would get
too wide a sigma). One factor on sigma, fitted on the leave-one-out predictions of the train
planets, keeps their |z| in bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.io.tables import STAR_COLUMNS

# Star features with a physical reading: (name, star column, transform). Depth (Rp/Rs)^2
# scales with powers of the radii and masses, so those enter as logs.
FEATURES: tuple[tuple[str, str, Callable[[np.ndarray], np.ndarray]], ...] = (
    ("log_Rs", "Rs", np.log),
    ("log_Ms", "Ms", np.log),
    ("log_Ts", "Ts", np.log),
    ("log_Mp", "Mp", np.log),
    ("e", "e", np.asarray),
    ("log_P", "P", np.log),
    ("log_sma", "sma", np.log),
    ("cos_i", "i", lambda degrees: np.cos(np.radians(degrees))),
)
FEATURE_NAMES = tuple(name for name, _, _ in FEATURES)
METHODS = ("regression", "mean")
# Fewer planets than this: the level is the plain mean (a regression would chase noise).
MIN_REGRESSION_PLANETS = 10
# The least a leave-one-out spread needs.
MIN_PLANETS = 3
# Ridge strengths tried, per planet (standardised features: X'X has n on its diagonal).
RIDGE_GRID = np.logspace(-4.0, 3.0, 29)
# The held-out |z| quantile the sigma factor brings to TARGET_Z (never shrinking sigma).
Z_QUANTILE = 0.95
TARGET_Z = 2.5


def star_features(stars: pd.DataFrame) -> pd.DataFrame:
    """Every candidate feature (FEATURE_NAMES) of a star table's rows; a missing, non-numeric
    or non-positive (under a log) value is NaN."""
    table = stars.reindex(columns=list(STAR_COLUMNS)).apply(pd.to_numeric, errors="coerce")
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = {name: transform(table[col].to_numpy(float)) for name, col, transform in FEATURES}
    frame = pd.DataFrame(columns, index=stars.index)
    return frame.where(np.isfinite(frame))


@dataclass(frozen=True)
class PriorPredictive:
    """The learned prior predictive (one JSON artifact).

    features: the star features regressed on (empty when method is "mean"); center, scale:
    their train mean and std; low, high: their train range (a test star is clipped to it);
    coef: the ridge coefficients on the standardised features; ridge: their penalty (0 for
    the mean); intercept: mean log level. level_moments: mean of exp(r) and exp(2r) over the
    leave-one-out residuals r of the chosen level; spread_moments: the same for the plain
    mean (a star row without usable features); loo_rmse, loo_rmse_mean: RMS of those
    residuals (the regression is chosen when its is lower). shape_mean, shape_sigma: per
    bin, depth / mean depth. sigma_scale: the factor on every sigma (>= 1).
    """

    method: str
    features: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    coef: tuple[float, ...]
    ridge: float
    intercept: float
    level_moments: tuple[float, ...]
    spread_moments: tuple[float, ...]
    loo_rmse: float
    loo_rmse_mean: float
    shape_mean: tuple[float, ...]
    shape_sigma: tuple[float, ...]
    sigma_scale: float
    n_planets: int

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"prior predictive method {self.method!r} is not one of {METHODS}")
        unknown = [f for f in self.features if f not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"prior predictive features {unknown} are not in {FEATURE_NAMES}")
        if self.method == "mean" and self.features:
            raise ValueError("a prior predictive with method 'mean' regresses on no feature")
        k = len(self.features)
        for name in ("center", "scale", "low", "high", "coef"):
            if len(getattr(self, name)) != k:
                raise ValueError(f"prior predictive {name} needs {k} values (one per feature)")
        if len(self.shape_mean) != len(self.shape_sigma) or not self.shape_mean:
            raise ValueError("prior predictive shape_mean and shape_sigma need one value per bin")
        numbers = [
            *self.center,
            *self.low,
            *self.high,
            *self.coef,
            *self.shape_mean,
            self.ridge,
            self.intercept,
        ]
        moments = (self.level_moments, self.spread_moments)
        if any(len(m) != 2 or m[0] <= 0 or m[1] < m[0] ** 2 for m in moments):
            raise ValueError(
                "prior predictive level and spread moments are (E exp r, E exp 2r) with "
                "E exp r > 0 and E exp 2r >= (E exp r)^2"
            )
        positive = [*self.scale, *self.shape_mean, *self.level_moments, *self.spread_moments]
        positive += [self.loo_rmse, self.loo_rmse_mean]
        if not np.isfinite(numbers).all() or not np.isfinite(positive).all():
            raise ValueError("prior predictive values must be finite numbers")
        if min(positive) <= 0 or min(self.shape_sigma) < 0 or self.sigma_scale < 1:
            raise ValueError(
                "prior predictive scales, shape means and level sigmas must be > 0, shape "
                "sigmas >= 0 and sigma_scale >= 1"
            )
        if self.n_planets < MIN_PLANETS:
            raise ValueError(f"a prior predictive needs >= {MIN_PLANETS} planets")

    @property
    def n_bins(self) -> int:
        return len(self.shape_mean)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> PriorPredictive:
        """The prior predictive of a ``to_dict`` record; ValueError when it is malformed."""
        if not isinstance(record, Mapping):
            raise ValueError(f"a prior predictive record is a mapping, got {type(record)}")
        fields = cls.__dataclass_fields__
        missing, extra = sorted(set(fields) - set(record)), sorted(set(record) - set(fields))
        if missing or extra:
            raise ValueError(f"prior predictive record: missing {missing}, unknown {extra}")
        values: dict[str, Any] = {}
        for name, field in fields.items():
            value = record[name]
            try:
                if field.type == "str":
                    values[name] = _expect(value, str)
                elif field.type == "int":
                    values[name] = _expect(value, int)
                elif name == "features":
                    values[name] = tuple(_expect(v, str) for v in _expect(value, list))
                elif field.type == "float":
                    values[name] = float(_expect(value, int | float))
                else:
                    values[name] = tuple(
                        float(_expect(v, int | float)) for v in _expect(value, list)
                    )
            except TypeError as err:
                raise ValueError(f"prior predictive {name}: {err}") from err
        return cls(**values)

    def predict(self, stars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma), each (rows, bins), for the rows of a star table. A row with a
        missing or non-finite feature gets the mean level with its full spread."""
        level, moments = self._level(stars)
        shape = np.asarray(self.shape_mean), np.asarray(self.shape_sigma)
        mu, sigma = _combine(level[:, None], moments[:, :1], moments[:, 1:], *shape)
        return mu, sigma * self.sigma_scale

    def _level(self, stars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Predicted log level (rows,) and its residuals' moments (rows, 2) per row."""
        n = len(stars)
        level = np.full(n, self.intercept)
        moments = np.tile(np.asarray(self.spread_moments), (n, 1))
        if not self.features:
            return level, moments
        x = star_features(stars)[list(self.features)].to_numpy(float)
        usable = np.isfinite(x).all(axis=1)
        x = np.clip(x[usable], self.low, self.high)
        z = (x - np.asarray(self.center)) / np.asarray(self.scale)
        level[usable] = self.intercept + z @ np.asarray(self.coef)
        moments[usable] = self.level_moments
        return level, moments


def _expect(value: Any, kind: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"expected {kind}, got {value!r:.60}")
    return value


def _combine(
    level: np.ndarray,
    exp_r: np.ndarray,
    exp_2r: np.ndarray,
    shape_mean: np.ndarray,
    shape_sigma: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of depth = m * s: m = exp(level + r) with E exp(r), E exp(2r) given, s
    per bin with mean shape_mean and std shape_sigma, independent of m."""
    m1 = np.exp(level) * exp_r
    m2 = np.exp(2.0 * level) * exp_2r
    mu = m1 * shape_mean
    variance = m2 * (shape_mean**2 + shape_sigma**2) - mu**2
    return mu, np.sqrt(np.maximum(variance, 0.0))


def read_prior_predictive(path: str | Path) -> PriorPredictive | None:
    """The prior predictive artifact at ``path``, or None where it records that too few train
    planets left it unlearned (the naive reference is the fallback then); ValueError names
    the file when malformed."""
    try:
        record = json.loads(Path(path).read_text())
        if isinstance(record, dict) and "unlearned" in record:
            return None
        return PriorPredictive.from_dict(record)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a prior predictive artifact: {err}") from err


def prior_predictive_record(
    labels: pd.DataFrame, stars: pd.DataFrame, exclude: Iterable[int] = ()
) -> dict[str, Any]:
    """The artifact's content: the learned prior predictive's dict, or, with fewer than
    MIN_PLANETS usable train planets, ``{"unlearned": why}`` (a workflow with a handful of
    train planets still runs; its fallback is the naive reference)."""
    usable = usable_planets(labels, stars, exclude)
    if len(usable) < MIN_PLANETS:
        why = f"{len(usable)} usable train planets, fewer than the {MIN_PLANETS} it needs"
        return {"unlearned": why}
    return learn_prior_predictive(labels, stars, exclude).to_dict()


def usable_planets(
    labels: pd.DataFrame, stars: pd.DataFrame, exclude: Iterable[int] = ()
) -> pd.Index:
    """The train planets a prior predictive learns from: labelled, not excluded, with a star
    row whose every feature is finite."""
    features = star_features(stars)
    keep = labels.index.difference(pd.Index(list(exclude), dtype=labels.index.dtype))
    return keep.intersection(features.index[features.notna().all(axis=1)])


@dataclass(frozen=True)
class _Level:
    """A fitted level model on the training rows: LOO residuals and the full-data fit."""

    loo_residual: np.ndarray
    coef: np.ndarray
    ridge: float

    @property
    def loo_rmse(self) -> float:
        return float(np.sqrt(np.mean(self.loo_residual**2)))

    def moments(self) -> tuple[float, float]:
        """E exp(r), E exp(2r) over the leave-one-out residuals."""
        r = self.loo_residual
        return float(np.mean(np.exp(r))), float(np.mean(np.exp(2.0 * r)))

    def held_out_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Per planet, E exp(r), E exp(2r) over the other planets' residuals."""
        n, r = len(self.loo_residual), self.loo_residual
        return tuple((np.sum(np.exp(k * r)) - np.exp(k * r)) / (n - 1) for k in (1.0, 2.0))


def _mean_level(y: np.ndarray) -> _Level:
    n = len(y)
    return _Level((y - y.mean()) * n / (n - 1), np.zeros(0), 0.0)


def _ridge_level(z: np.ndarray, y: np.ndarray) -> _Level:
    """The ridge (unpenalised intercept) with the least closed-form LOO error over
    RIDGE_GRID: residual_i / (1 - h_ii) with the hat matrix from the SVD of z."""
    n = len(y)
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    uy = u.T @ (y - y.mean())

    def fit(ridge: float) -> _Level:
        shrink = s**2 / (s**2 + ridge)
        fitted = y.mean() + u @ (shrink * uy)
        leverage = (u**2) @ shrink + 1.0 / n
        return _Level((y - fitted) / (1.0 - leverage), vt.T @ (s / (s**2 + ridge) * uy), ridge)

    return min((fit(ridge) for ridge in RIDGE_GRID * n), key=lambda level: level.loo_rmse)


def _loo_shape(shape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per planet, the shape mean and std (ddof 1) over the other planets."""
    n = len(shape)
    total, squares = shape.sum(axis=0), (shape**2).sum(axis=0)
    mean = (total - shape) / (n - 1)
    variance = (squares - shape**2 - (n - 1) * mean**2) / (n - 2)
    return mean, np.sqrt(np.maximum(variance, 0.0))


def learn_prior_predictive(
    labels: pd.DataFrame, stars: pd.DataFrame, exclude: Iterable[int] = ()
) -> PriorPredictive:
    """Learn the prior predictive from train labels (planet_id index, one column per bin) and
    the train star table; planets in ``exclude``, without a star row or with a non-finite
    feature are left out. ValueError: fewer than MIN_PLANETS planets, or a non-positive
    mean depth (its log level is undefined)."""
    features = star_features(stars)
    keep = usable_planets(labels, stars, exclude)
    if len(keep) < MIN_PLANETS:
        raise ValueError(f"a prior predictive needs >= {MIN_PLANETS} planets, got {len(keep)}")
    depths = labels.loc[keep].to_numpy(float)
    level_depth = depths.mean(axis=1)
    if not (np.isfinite(depths).all() and (level_depth > 0).all()):
        bad = keep[~(np.isfinite(depths).all(axis=1) & (level_depth > 0))].tolist()
        raise ValueError(f"planets {bad[:5]} have non-finite or non-positive mean depths")
    y = np.log(level_depth)
    shape = depths / level_depth[:, None]
    x = features.loc[keep].to_numpy(float)
    varying = x.std(axis=0) > 1e-12 * (1.0 + np.abs(x.mean(axis=0)))
    x, names = x[:, varying], [n for n, v in zip(FEATURE_NAMES, varying, strict=True) if v]
    center, scale = x.mean(axis=0), x.std(axis=0)

    mean_level = _mean_level(y)
    level = mean_level
    if len(y) >= MIN_REGRESSION_PLANETS and names:
        ridge_level = _ridge_level((x - center) / scale, y)
        if ridge_level.loo_rmse < mean_level.loo_rmse:
            level = ridge_level
    regressed = level is not mean_level

    # One factor on sigma from the held-out predictions of the train planets.
    loo_mean, loo_sigma = _loo_shape(shape)
    loo_level = y - level.loo_residual
    exp_r, exp_2r = level.held_out_moments()
    mu, sigma = _combine(loo_level[:, None], exp_r[:, None], exp_2r[:, None], loo_mean, loo_sigma)
    z = np.abs(depths - mu) / np.maximum(sigma, np.finfo(float).tiny)
    sigma_scale = max(1.0, float(np.quantile(z, Z_QUANTILE)) / TARGET_Z)

    def used(values: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in values) if regressed else ()

    return PriorPredictive(
        method="regression" if regressed else "mean",
        features=tuple(names) if regressed else (),
        center=used(center),
        scale=used(scale),
        low=used(x.min(axis=0)),
        high=used(x.max(axis=0)),
        coef=used(level.coef),
        ridge=float(level.ridge),
        intercept=float(y.mean()),
        level_moments=level.moments(),
        spread_moments=mean_level.moments(),
        loo_rmse=level.loo_rmse,
        loo_rmse_mean=mean_level.loo_rmse,
        shape_mean=tuple(float(v) for v in shape.mean(axis=0)),
        shape_sigma=tuple(float(v) for v in shape.std(axis=0, ddof=1)),
        sigma_scale=sigma_scale,
        n_planets=len(y),
    )
