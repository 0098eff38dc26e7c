"""How light curves are extracted, with what parameters (the ``extraction:`` config block)."""

from __future__ import annotations

from dataclasses import dataclass

from spectramind.core.options import ConfigBlock, check_limits

FGS1_FIXED_METHODS = ("auto", "psf", "window")

# Inclusive [low, high] of every numeric option; config/schema.yaml states the same limits.
LIMITS = {
    "fgs1_background_radius_px": (4.0, 20.0),
    "fgs1_centroid_half_width_px": (1, 15),
    "airs_edge_rows": (1, 8),
    "airs_profile_smoothing_columns": (1, 63),
}
APERTURE_RADIUS_LIMITS = (1.0, 15.0)


def aperture_name(radius: float) -> str:
    """The FGS1 method name of a circular aperture: 3.0 -> "aperture3"."""
    return f"aperture{radius:g}"


@dataclass(frozen=True)
class ExtractionOptions(ConfigBlock):
    """Parameters of FGS1 photometry and AIRS-CH0 optimal extraction.

    fgs1_method: "auto" picks, per visit, the candidate with the lowest point-to-point
    scatter; or force "psf", "window" or "aperture<r>" for one of fgs1_aperture_radii_px.
    fgs1_centroid_half_width_px: the centroid box spans this many px on each side of the
    brightest pixel. airs_edge_rows: rows at the top and at the bottom that measure the AIRS
    background. airs_profile_smoothing_columns: median-filter length of the spatial profile
    along the dispersion direction.
    """

    BLOCK = "extraction"

    fgs1_method: str = "auto"
    fgs1_aperture_radii_px: tuple[float, ...] = (3.0, 5.0, 8.0)
    fgs1_background_radius_px: float = 12.0
    fgs1_centroid_half_width_px: int = 3
    airs_edge_rows: int = 4
    airs_profile_smoothing_columns: int = 7

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, "extraction")
        radii = self.fgs1_aperture_radii_px
        low, high = APERTURE_RADIUS_LIMITS
        numbers = isinstance(radii, list | tuple) and all(
            isinstance(r, int | float) and not isinstance(r, bool) for r in radii
        )
        if not numbers or len(set(radii)) != len(radii) or not all(low <= r <= high for r in radii):
            raise ValueError(
                f"extraction.fgs1_aperture_radii_px must be distinct radii in [{low:g}, {high:g}]"
                f" px, got {self.fgs1_aperture_radii_px!r}"
            )
        if radii and max(radii) >= self.fgs1_background_radius_px:
            raise ValueError(
                "extraction.fgs1_aperture_radii_px must stay inside "
                f"fgs1_background_radius_px ({self.fgs1_background_radius_px:g} px), got {radii}"
            )
        object.__setattr__(self, "fgs1_aperture_radii_px", tuple(map(float, radii)))
        if self.fgs1_method not in self.fgs1_methods():
            raise ValueError(
                f"extraction.fgs1_method must be one of {list(self.fgs1_methods())}, "
                f"got {self.fgs1_method!r}"
            )

    def fgs1_methods(self) -> tuple[str, ...]:
        """Every allowed ``fgs1_method``: auto, psf, window and the configured apertures."""
        return (*FGS1_FIXED_METHODS, *map(aperture_name, self.fgs1_aperture_radii_px))
