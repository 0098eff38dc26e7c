"""The jitter regressors extraction measures per time bin (name -> units, meaning), and the
design-matrix columns the fit and the diagnostics build from them."""

from __future__ import annotations

import numpy as np

REGRESSORS = {
    "fgs1_centroid_x": ("px", "FGS1 PSF centroid column"),
    "fgs1_centroid_y": ("px", "FGS1 PSF centroid row"),
    "fgs1_background": ("e-/px", "FGS1 sky + residual dark per pixel"),
    "airs_trace_row": ("px", "AIRS trace centre row (flux-weighted)"),
    "airs_trace_width": ("px", "AIRS trace rms width"),
    "airs_background": ("e-/px", "AIRS edge-row background per pixel"),
}


def quadratic_surface(regressors: list[np.ndarray], reference: np.ndarray | None = None) -> list:
    """Each regressor standardised (on the ``reference`` rows, default all), its square, and
    the products of pairs: jitter acts on the flux as a smooth, not linear, function of the
    pointing (e.g. a PSF moving over a dead pixel)."""
    rows = slice(None) if reference is None else reference
    z = [(r - r[rows].mean()) / (r[rows].std() or 1.0) for r in regressors]
    columns = []
    for i, zi in enumerate(z):
        columns += [zi, zi**2] + [zi * zj for zj in z[i + 1 :]]
    return columns
