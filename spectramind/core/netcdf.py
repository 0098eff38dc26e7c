"""Write xarray Datasets as netCDF4 atomically (temp name, then rename)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from spectramind.core.atomic import atomic_output


def write_netcdf(dataset: xr.Dataset, path: str | Path) -> None:
    """Write ``dataset`` to ``path``; a failure never leaves a partial file under that name."""
    with atomic_output(path) as tmp:
        dataset.to_netcdf(tmp, engine="netcdf4", format="NETCDF4")
