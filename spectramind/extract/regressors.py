"""Design-matrix columns for jitter regressors, shared by the fit and the diagnostics."""

from __future__ import annotations

import numpy as np


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
