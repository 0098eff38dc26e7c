"""Calibration: equal to the organisers' reference, float32 safe, honest variance, masks."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr

from spectramind import io
from spectramind.calibrate import CalibrationOptions, calibrate_visit
from spectramind.calibrate.pixels import FLAG_COSMIC, FLAG_DEAD, FLAG_HOT
from spectramind.core.netcdf import write_netcdf

REPO = Path(__file__).resolve().parents[1]
NO_COSMIC = CalibrationOptions(cosmic=False)


def _reference():
    spec = importlib.util.spec_from_file_location(
        "reference_calibration", REPO / "benchmarks/reference_calibration.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_detector_order(dataset: xr.Dataset, name: str) -> np.ndarray:
    values = dataset[name].values
    return values[:, :, ::-1] if dataset.attrs["instrument"] == "AIRS-CH0" else values


@pytest.mark.parametrize("instrument", io.INSTRUMENTS)
def test_equals_the_organisers_reference_on_unmasked_pixels(small_root, instrument):
    reference = _reference()
    for split in io.SPLITS:
        planet_id = io.discover_planets(small_root, split)[0]
        for visit in io.discover_visits(small_root, split, planet_id):
            ours = calibrate_visit(small_root, split, planet_id, instrument, visit, NO_COSMIC)
            ref = reference.calibrate(
                small_root, split, planet_id, instrument, visit, ours.attrs["pairs_per_bin"]
            )
            good = ~np.ma.getmaskarray(ref)
            flux = _as_detector_order(ours, "flux")
            assert flux.shape == ref.shape
            relative = np.abs(flux[good] - ref.data[good]) / np.abs(ref.data[good])
            assert relative.max() <= 1e-6
            # The masks agree too: what the reference masks is flagged dead or hot here.
            flags = _as_detector_order(ours, "mask")[0]
            np.testing.assert_array_equal((flags & (FLAG_DEAD | FLAG_HOT)) > 0, ~good[0])


def test_float32_storage_is_far_below_the_noise(small_root):
    """Sums are float64; storing float32 costs < 1e-7 relative and < 1e-3 of a sigma."""
    reference = _reference()
    planet_id = io.discover_planets(small_root, "train")[0]
    ours = calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0, NO_COSMIC)
    ref = reference.calibrate(small_root, "train", planet_id, "AIRS-CH0", 0, 1)
    good = ~np.ma.getmaskarray(ref)
    flux = _as_detector_order(ours, "flux").astype(np.float64)
    sigma = np.sqrt(_as_detector_order(ours, "variance").astype(np.float64))
    error = np.abs(flux - ref.data)[good]
    assert ours["flux"].dtype == np.float32
    assert (error / np.abs(ref.data[good])).max() < 1e-7
    assert (error / sigma[good]).max() < 1e-3


def test_coordinates_units_and_provenance(small_root):
    planet_id = io.discover_planets(small_root, "test")[0]
    airs = calibrate_visit(small_root, "test", planet_id, "AIRS-CH0", 0)
    np.testing.assert_array_equal(airs["wavelength"].values, io.read_wavelengths(small_root)[1:])
    assert airs.sizes["column"] == 282 and airs["column"].values[0] == 320
    assert np.all(np.diff(airs["time"].values) > 0) and airs["time"].attrs["units"] == "h"
    assert airs["flux"].attrs["units"] == "e-"
    steps = json.loads(airs.attrs["steps"])
    assert steps["linearity"] and steps["time_bin"] == {"FGS1": 360, "AIRS-CH0": 30}
    sources = json.loads(airs.attrs["source_sha256"])
    assert any(path.endswith("AIRS-CH0_signal_0.parquet") for path in sources)
    fgs1 = calibrate_visit(small_root, "test", planet_id, "FGS1", 0)
    assert fgs1.sizes["column"] == 32 and "wavelength" not in fgs1.coords
    # Both instruments bin the same duration, so their time axes line up (within half a bin:
    # at low cadence an AIRS bin holds few exposures).
    half_bin_h = np.diff(airs["time"].values).mean() / 2
    np.testing.assert_allclose(fgs1["time"].values, airs["time"].values, atol=half_bin_h)


def test_variance_matches_the_scatter_of_quiet_pixels(small_root):
    """Edge rows of AIRS see only sky + dark: their bin-to-bin scatter is the propagated
    noise (shot + read), so variance / scatter^2 ~ 1."""
    planet_id = io.discover_planets(small_root, "train")[1]
    data = calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0)
    rows = np.r_[0:4, 28:32]
    flux = data["flux"].values[:, rows].astype(np.float64)
    variance = data["variance"].values[:, rows].astype(np.float64)
    good = data["mask"].values[0, rows] == 0
    scatter = np.diff(flux, axis=0).std(axis=0) / np.sqrt(2)
    ratio = np.median(scatter[good] / np.sqrt(variance.mean(axis=0)[good]))
    assert ratio == pytest.approx(1.0, abs=0.1)


def _spiked_copy(root: Path, tmp_path: Path, planet_id: int) -> tuple[Path, tuple[int, int]]:
    """Copy the root and add a cosmic-ray-like 3000 e- jump to one long read of a faint pixel."""
    copy = tmp_path / "raw"
    shutil.copytree(root, copy)
    path = io.signal_path(copy, "train", planet_id, "AIRS-CH0", 0)
    table = pq.read_table(path)
    pixel = (2, 100)  # edge row, inside the science columns: sky only
    column = pixel[0] * 356 + pixel[1]
    values = table.column(column).to_numpy().copy()
    values[2 * 40 + 1] += int(3000 * 0.4369)
    table = table.set_column(column, table.field(column), pa.array(values, pa.uint16()))
    pq.write_table(table, path)
    return copy, pixel


def test_cosmic_ray_is_found_and_replaced(small_root, tmp_path):
    planet_id = io.discover_planets(small_root, "train")[0]
    spiked, (row, det_col) = _spiked_copy(small_root, tmp_path, planet_id)
    clean = calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0)
    hit = calibrate_visit(spiked, "train", planet_id, "AIRS-CH0", 0)
    kept = calibrate_visit(spiked, "train", planet_id, "AIRS-CH0", 0, NO_COSMIC)
    col = int(np.flatnonzero(hit["column"].values == det_col)[0])
    bin_ = 40 // hit.attrs["pairs_per_bin"]
    assert hit["mask"].values[bin_, row, col] & FLAG_COSMIC
    assert kept["flux"].values[bin_, row, col] - clean["flux"].values[bin_, row, col] > 2500
    sigma = np.sqrt(clean["variance"].values[bin_, row, col])
    assert abs(hit["flux"].values[bin_, row, col] - clean["flux"].values[bin_, row, col]) < (
        3 * sigma
    )


def test_each_step_switch_undoes_exactly_its_step(small_root):
    """AIRS, every step but one: the difference to the full chain is that step's own effect,
    computed from the calibration frames and the real ADC setting (gain 0.4369; CDS
    integrates from the 0.1 s short read to the 4.6 s long read)."""
    planet_id = io.discover_planets(small_root, "train")[0]
    folder = io.calibration_dir(small_root, "train", planet_id, "AIRS-CH0", 0)
    calib = io.read_calibration(folder, "AIRS-CH0")
    columns = slice(39, 321)  # the AIRS science columns
    flat, dark = calib.flat[:, columns], calib.dark[:, columns]
    base = calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0, NO_COSMIC)
    flags = _as_detector_order(base, "mask")[0]
    live, not_dead = flags == 0, (flags & FLAG_DEAD) == 0
    full = _as_detector_order(base, "flux").astype(np.float64)
    pairs = base.attrs["pairs_per_bin"]

    def without(step: str) -> np.ndarray:
        off = calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0,
                              CalibrationOptions(cosmic=False, **{step: False}))  # fmt: skip
        assert json.loads(off.attrs["steps"])[step] is False
        return _as_detector_order(off, "flux").astype(np.float64)

    # Flat field: the unflattened flux is the flux times the flat, pixel by pixel.
    np.testing.assert_allclose(without("flat")[:, live], (full * flat)[:, live], rtol=1e-6)
    # Dark: adds back dark current x 4.5 s per pair, through the flat (hot pixels: up to 46 e-).
    expected = np.broadcast_to(dark * 4.5 * pairs / flat, full.shape)
    difference = without("dark") - full
    np.testing.assert_allclose(difference[:, not_dead], expected[:, not_dead], atol=0.02)
    # ADC: left in raw counts, the flux shrinks by the gain (measured median 0.4367).
    ratio = without("adc")[:, live] / full[:, live]
    assert np.median(ratio) == pytest.approx(0.4369, rel=2e-3)
    # Linearity: the detector reads low at high signal, so the uncorrected brightest 1 %
    # of pixels come out low (measured 1.1 % low), mid-level ones not (0.01 %).
    ratio = without("linearity")[:, live] / full[:, live]
    level = full[:, live]
    assert np.median(ratio[level > np.percentile(level, 99)]) < 0.995
    middle = (level > np.percentile(level, 40)) & (level < np.percentile(level, 60))
    assert np.median(ratio[middle]) == pytest.approx(1.0, abs=1e-3)
    # CDS: without subtracting the short read, its reset level and charge stay in.
    assert np.median(without("cds")[:, live] - full[:, live]) > 0


def test_bins_keep_their_duration_at_lower_cadence():
    options = CalibrationOptions()
    assert options.pairs_per_bin("FGS1", 1) == 360 and options.pairs_per_bin("AIRS-CH0", 1) == 30
    assert options.pairs_per_bin("FGS1", 10) == 36 and options.pairs_per_bin("AIRS-CH0", 10) == 3
    assert options.pairs_per_bin("FGS1", 50) == 12 and options.pairs_per_bin("AIRS-CH0", 50) == 1
    with pytest.raises(ValueError, match="same bin duration"):
        CalibrationOptions(time_bin={"FGS1": 300, "AIRS-CH0": 30})


def test_visit_shorter_than_one_bin_is_a_clear_error(small_root):
    planet_id = io.discover_planets(small_root, "train")[0]
    huge = CalibrationOptions(time_bin={"FGS1": 360 * 1000, "AIRS-CH0": 30 * 1000})
    with pytest.raises(io.RawDataError, match="fewer than one time bin") as excinfo:
        calibrate_visit(small_root, "train", planet_id, "AIRS-CH0", 0, huge)
    assert "AIRS-CH0_signal_0.parquet" in str(excinfo.value)


def test_missing_calibration_frame_names_the_file(small_root, tmp_path):
    copy = tmp_path / "raw"
    shutil.copytree(small_root, copy)
    planet_id = io.discover_planets(copy, "train")[0]
    folder = io.calibration_dir(copy, "train", planet_id, "FGS1", 0)
    (folder / "read.parquet").unlink()
    with pytest.raises(io.RawDataError, match="read.parquet: file not found"):
        calibrate_visit(copy, "train", planet_id, "FGS1", 0)


def test_failed_write_leaves_no_partial_netcdf(small_root, tmp_path, monkeypatch):
    planet_id = io.discover_planets(small_root, "train")[0]
    dataset = calibrate_visit(small_root, "train", planet_id, "FGS1", 0)

    def broken(self, path, **kwargs):
        Path(path).write_bytes(b"half a netCDF")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    target = tmp_path / "FGS1_0.nc"
    with pytest.raises(OSError, match="disk full"):
        write_netcdf(dataset, target)
    assert list(tmp_path.iterdir()) == []
