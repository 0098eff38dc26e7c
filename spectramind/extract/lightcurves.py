"""Per-planet light curves: 283 channels (FGS1 white light + 282 AIRS columns) per visit."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from spectramind import __version__
from spectramind.calibrate.pixels import FLAG_DEAD, FLAG_HOT
from spectramind.core.provenance import sha256_outputs
from spectramind.extract.airs import optimal_extraction
from spectramind.extract.fgs1 import photometry
from spectramind.extract.options import ExtractionOptions
from spectramind.extract.regressors import REGRESSORS
from spectramind.io import RawDataError

log = logging.getLogger(__name__)


def _static_bad(dataset: xr.Dataset) -> np.ndarray:
    """Pixels whose values are not measurements: dead ones always, hot ones if filled."""
    steps = json.loads(dataset.attrs["steps"])
    flags = FLAG_DEAD | (FLAG_HOT if steps["fill_hot"] else 0)
    return (dataset["mask"].values[0] & flags) > 0


def extract_visit(fgs1: xr.Dataset, airs: xr.Dataset, options: ExtractionOptions) -> dict:
    """Light curves of one visit from its two calibrated datasets."""
    n_time = min(fgs1.sizes["time"], airs.sizes["time"])
    phot = photometry(
        fgs1["flux"].values[:n_time].astype(np.float64),
        fgs1["variance"].values[:n_time].astype(np.float64),
        _static_bad(fgs1),
        options,
    )
    spec = optimal_extraction(
        airs["flux"].values[:n_time].astype(np.float64),
        airs["variance"].values[:n_time].astype(np.float64),
        _static_bad(airs),
        options,
    )
    return {
        "fgs1_time": fgs1["time"].values[:n_time],
        "airs_time": airs["time"].values[:n_time],
        "flux": np.column_stack([phot.flux, spec.flux]),
        "variance": np.column_stack([phot.variance, spec.variance]),
        "fgs1_centroid_x": phot.centroid_x,
        "fgs1_centroid_y": phot.centroid_y,
        "fgs1_background": phot.background,
        "airs_trace_row": spec.trace_row,
        "airs_trace_width": spec.trace_width,
        "airs_background": spec.background,
        "fgs1_method": phot.method,
        "fgs1_scatter": phot.scatter,
        "pairs_per_bin": (int(fgs1.attrs["pairs_per_bin"]), int(airs.attrs["pairs_per_bin"])),
    }


def extract_planet(
    fgs1_files: Sequence[str | Path],
    airs_files: Sequence[str | Path],
    wavelengths: np.ndarray,
    options: ExtractionOptions | None = None,
) -> xr.Dataset:
    """Light-curve Dataset (visit, time, channel) from the calibrated files of every visit.

    Files are given in visit order. Channel 0 is FGS1, channels 1..282 AIRS by ascending
    wavelength; the ``wavelength`` coordinate is the 283 target wavelengths. ``fgs1_time``
    and ``airs_time`` are each instrument's bin centres (h since the visit start).
    """
    if len(fgs1_files) != len(airs_files) or not fgs1_files:
        raise ValueError("need one FGS1 and one AIRS-CH0 calibrated file per visit")
    options = options or ExtractionOptions()
    visits = []
    for fgs1_path, airs_path in zip(fgs1_files, airs_files, strict=True):
        with xr.open_dataset(fgs1_path) as fgs1, xr.open_dataset(airs_path) as airs:
            if not np.allclose(airs["wavelength"].values, wavelengths[1:], rtol=0, atol=1e-9):
                raise RawDataError(airs_path, "AIRS wavelengths differ from wavelengths.csv")
            visits.append(extract_visit(fgs1.load(), airs.load(), options))
    lengths = {len(v["airs_time"]) for v in visits}
    if len(lengths) != 1:
        raise ValueError(f"visits have different numbers of time bins: {sorted(lengths)}")
    data_vars = {
        "flux": (("visit", "time", "channel"), np.stack([v["flux"] for v in visits]),
                 {"units": "e-", "long_name": "extracted flux per time bin"}),
        "variance": (("visit", "time", "channel"), np.stack([v["variance"] for v in visits]),
                     {"units": "e-2"}),
    }  # fmt: skip
    # The instruments' bins are not simultaneous (different exposure times): each has its own.
    for instrument, name in (("FGS1", "fgs1_time"), ("AIRS-CH0", "airs_time")):
        data_vars[name] = (
            ("visit", "time"),
            np.stack([v[name] for v in visits]),
            {"units": "h", "long_name": f"{instrument} bin centre since visit start"},
        )
    for name, (units, long_name) in REGRESSORS.items():
        data_vars[name] = (
            ("visit", "time"),
            np.stack([v[name] for v in visits]),
            {"units": units, "long_name": long_name},
        )
    dataset = xr.Dataset(
        data_vars,
        coords={
            "visit": np.arange(len(visits)),
            "channel": np.arange(len(wavelengths)),
            "wavelength": ("channel", np.asarray(wavelengths), {"units": "um"}),
        },
        attrs={
            "title": "SpectraMind V50 light curves",
            "fgs1_method": json.dumps([v["fgs1_method"] for v in visits]),
            "fgs1_scatter": json.dumps([v["fgs1_scatter"] for v in visits]),
            "airs_method": "optimal extraction (Horne 1986), edge-row background",
            "fgs1_pairs_per_bin": visits[0]["pairs_per_bin"][0],
            "airs_pairs_per_bin": visits[0]["pairs_per_bin"][1],
            "options": json.dumps(options.as_dict(), sort_keys=True),
            "source_sha256": json.dumps(sha256_outputs([*fgs1_files, *airs_files])),
            "software": f"spectramind {__version__}",
        },
    )
    log.info("extracted %d visit(s), FGS1 by %s", len(visits), [v["fgs1_method"] for v in visits])
    return dataset
