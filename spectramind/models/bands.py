"""Molecular absorption bands (``spectramind.fit.absorbers.MOLECULAR_BANDS``) as the graph's
band edges.

Bins inside one band see the same molecule's opacity, so their depths move together; the AIRS
graph joins every pair of them (``spectramind.models.graph.band_edges``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def validate_bands(bands: Mapping[str, Sequence[tuple[float, float]]]) -> None:
    """Raise ValueError naming the molecule and band if a band is not a finite (start < end)."""
    for molecule, intervals in bands.items():
        for band in intervals:
            start, end = band
            if not (np.isfinite(start) and np.isfinite(end)):
                raise ValueError(f"{molecule} band {band}: start and end must be finite (um)")
            if start >= end:
                raise ValueError(f"{molecule} band {band}: start must be below end (um)")


def bins_in_band(wavelength_um: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Indices of the bins whose wavelength lies in the closed interval ``band`` (um)."""
    wavelength_um = np.asarray(wavelength_um, dtype=np.float64)
    start, end = band
    return np.flatnonzero((wavelength_um >= start) & (wavelength_um <= end))


def band_membership(
    wavelength_um: np.ndarray, bands: Mapping[str, Sequence[tuple[float, float]]]
) -> dict[str, np.ndarray]:
    """Sorted indices of the bins inside any of each molecule's bands."""
    validate_bands(bands)
    members = {}
    for molecule, intervals in bands.items():
        indices = [bins_in_band(wavelength_um, band) for band in intervals]
        members[molecule] = np.unique(np.concatenate([np.empty(0, dtype=np.int64), *indices]))
    return members
