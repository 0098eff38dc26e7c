"""How the physics fit models and weighs the light curves (the ``fit:`` config block)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spectramind.core.options import ConfigBlock, check_limits
from spectramind.extract.regressors import REGRESSORS
from spectramind.fit.spectral_prior import FEATURE_AMPLITUDE
from spectramind.io.layout import INSTRUMENTS

# Inclusive [low, high] of every numeric option; config/schema.yaml states the same limits.
LIMITS = {
    "drift_degree": (0, 5),
    "chromatic_drift_degree": (0, 5),
    "chromatic_wavelength_degree": (0, 5),
    "limb_darkening_wavelength_degree": (0, 3),
    "spectral_prior_components": (1, 50),
    "spectral_prior_feature_ppm": (0.0, 1000.0),
    "ramp_timescale_h": (0.01, 5.0),
    "t0_grid_step_h": (0.001, 0.5),
    "prior_sma_fraction": (0.001, 1.0),
    "prior_inclination_deg": (0.01, 10.0),
    "limb_darkening_groups": (2, 141),
    "max_depth": (0.02, 0.5),
    "red_noise_max_bins": (1, 1024),
}
# Bounds of (u1, u2) in the white-light fit, which its start must lie within.
LIMB_DARKENING_BOUNDS = ((0.0, 1.0), (-0.5, 1.0))


def _default_regressors() -> dict[str, tuple[str, ...]]:
    return {
        "FGS1": ("fgs1_centroid_x", "fgs1_centroid_y"),
        "AIRS-CH0": ("airs_trace_row", "fgs1_centroid_x"),
    }


@dataclass(frozen=True)
class FitOptions(ConfigBlock):
    """Systematics model, priors and search settings of the white-light and per-channel fits.

    regressors: per instrument, the extracted jitter regressors whose quadratic surface
    multiplies the transit. drift_degree: polynomial in time of the baseline. The AIRS
    channels share a chromatic drift on top of the white light's baseline, a Chebyshev
    surface in time and wavelength whose degrees the BIC picks up to chromatic_drift_degree
    and chromatic_wavelength_degree. ramp_timescale_h: e-folding time of the settling ramp.
    The white light searches t0 on a t0_grid_step_h grid and has Gaussian priors on a/Rs
    (fraction of the catalogue value) and inclination (deg) from star_info. (u1, u2) are
    fitted on limb_darkening_groups groups of AIRS channels and smoothed by a polynomial of
    limb_darkening_wavelength_degree in wavelength. limb_darkening_prior,
    white_light_error_scale (inflating the white-light depths' errors) and spectral_prior switch
    on what is learned from the training planets (artifacts); the spectral prior keeps
    spectral_prior_components principal components and grants band-scale structure its
    labels never showed spectral_prior_feature_ppm of amplitude. max_depth bounds every depth;
    red_noise_max_bins is the largest bin of the red-noise (beta) estimate (1: no beta).
    """

    BLOCK = "fit"

    regressors: dict[str, tuple[str, ...]] = field(default_factory=_default_regressors)
    drift_degree: int = 2
    chromatic_drift_degree: int = 2
    chromatic_wavelength_degree: int = 2
    ramp_timescale_h: float = 0.5
    t0_grid_step_h: float = 0.02
    prior_sma_fraction: float = 0.05
    prior_inclination_deg: float = 0.5
    start_limb_darkening: tuple[float, float] = (0.3, 0.15)
    limb_darkening_groups: int = 12
    limb_darkening_wavelength_degree: int = 1
    limb_darkening_prior: bool = True
    white_light_error_scale: bool = True
    spectral_prior: bool = True
    spectral_prior_components: int = 6
    spectral_prior_feature_ppm: float = FEATURE_AMPLITUDE * 1e6
    max_depth: float = 0.1
    red_noise_max_bins: int = 16

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, "fit")
        for name in ("limb_darkening_prior", "white_light_error_scale", "spectral_prior"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"fit.{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.regressors, dict) or set(self.regressors) != set(INSTRUMENTS):
            raise ValueError(f"fit.regressors needs FGS1 and AIRS-CH0 lists, got {self.regressors}")
        for instrument, names in self.regressors.items():
            unknown = [n for n in names if n not in REGRESSORS]
            if unknown or len(set(names)) != len(names):
                raise ValueError(
                    f"fit.regressors.{instrument} must be distinct names from "
                    f"{list(REGRESSORS)}, got {list(names)}"
                )
        regressors = {ins: tuple(self.regressors[ins]) for ins in INSTRUMENTS}
        object.__setattr__(self, "regressors", regressors)
        start = tuple(self.start_limb_darkening)
        if len(start) != 2 or not all(
            isinstance(u, int | float) and low <= u <= high
            for u, (low, high) in zip(start, LIMB_DARKENING_BOUNDS, strict=True)
        ):
            raise ValueError(
                f"fit.start_limb_darkening must be [u1, u2] within {LIMB_DARKENING_BOUNDS}, "
                f"got {self.start_limb_darkening!r}"
            )
        object.__setattr__(self, "start_limb_darkening", tuple(map(float, start)))
