"""A catalogue of bad inputs and hostile conditions, one test per case.

Each case asserts an error that names the file (or config key) and the problem, and that no
partial output is left behind. Raw-data cases run the calibrate job's code
(``calibrate_visit`` then ``write_netcdf``: it streams the signal with ``iter_signal_chunks``)
and, where a signal is at fault, the whole-file ``read_signal`` too.
Read-only and full disks are real: a user+mount namespace (``unshare -rm``) holds a
read-only bind mount or a 200 KiB tmpfs. The kill -9 case runs the workflow twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from spectramind import io
from spectramind.calibrate import calibrate_visit
from spectramind.core.atomic import write_csv_atomic
from spectramind.core.netcdf import write_netcdf
from spectramind.io import RawDataError
from spectramind.submission import (
    SubmissionError,
    build_submission,
    expected_columns,
    validate_submission,
    write_validated_submission,
)

COLUMNS = expected_columns()
REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY_WORKFLOW = """\
predictor: physics  # a model needs more than one train planet
simulation:
  n_train: 1
  n_test: 1
  cadence: 100
  second_visit_fraction: 0
fit:
  spectral_prior: false  # learning it takes at least 3 train planets
"""


@pytest.fixture
def planet(small_root: Path, tmp_path: Path) -> tuple[Path, int]:
    """A private copy of the small root (tests corrupt it) and one train planet id."""
    root = tmp_path / "raw"
    shutil.copytree(small_root, root)
    return root, io.discover_planets(root, "train")[0]


def _names(err: object, path: Path, words: str) -> None:
    """The message starts with the offending path and says what is wrong."""
    message = str(err)
    assert message.startswith(f"{path}: "), message
    assert words in message, message


def _raises(
    call: Callable[[], object], path: Path, words: str, error: type[Exception] = RawDataError
) -> Exception:
    with pytest.raises(error) as excinfo:
        call()
    _names(excinfo.value, path, words)
    return excinfo.value


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _refused(root: Path, planet_id: int, instrument: str, path: Path, words: str) -> None:
    """Calibrating visit 0 (the workflow's calibrate job: it streams the signal with
    ``iter_signal_chunks``) fails naming ``path``, and nothing is written or changed beside
    or under the root: no netCDF, no partial or scratch file."""
    out = root.parent / "calibrated" / f"{instrument}_0.nc"
    before = _files(root.parent)
    _raises(
        lambda: write_netcdf(calibrate_visit(root, "train", planet_id, instrument, 0), out),
        path,
        words,
    )
    assert _files(root.parent) == before


def _signal_refused(root: Path, planet_id: int, instrument: str, words: str) -> None:
    """Both signal readers refuse visit 0: ``read_signal`` and the calibrate job."""
    path = io.signal_path(root, "train", planet_id, instrument, 0)
    _raises(lambda: io.read_signal(path, instrument), path, words)
    _refused(root, planet_id, instrument, path, words)


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _set_frame(table: pa.Table, frame: int, value: int | None) -> pa.Table:
    """``table`` with every pixel of one frame (row) set to ``value`` (None: null)."""
    row = pa.array(np.arange(table.num_rows) == frame)
    fill = pa.scalar(value, pa.uint16())
    return pa.table([pc.if_else(row, fill, c) for c in table.columns], names=table.column_names)


# --- raw signal files -----------------------------------------------------------------------


def test_truncated_parquet(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _signal_refused(root, pid, "AIRS-CH0", "not a readable parquet file (truncated or corrupt?)")


def test_corrupt_data_page(planet):
    """Footer intact but a data page overwritten: decoding must fail by name, not crash."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 4096] = np.random.default_rng(0).bytes(4096)
    path.write_bytes(bytes(data))
    _signal_refused(root, pid, "AIRS-CH0", "corrupt")


def test_wrong_column_count(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    _rewrite(path, lambda table: table.drop_columns(table.column_names[-3:]))
    _signal_refused(root, pid, "FGS1", "expected 1024 columns, found 1021")


def test_wrong_dtype(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    _rewrite(
        path, lambda table: table.cast(pa.schema([(n, pa.float32()) for n in table.schema.names]))
    )
    _signal_refused(root, pid, "FGS1", "dtype float, expected uint16 (1024 such)")


def test_null_frame(planet):
    """A frame of nulls (parquet's NaN for integers) is refused, not read as zeros."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    _rewrite(path, lambda table: _set_frame(table, 5, None))
    _signal_refused(root, pid, "FGS1", "column 0 holds 1 missing (null or NaN) values")


def test_all_zero_frame(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    _rewrite(path, lambda table: _set_frame(table, 7, 0))
    _signal_refused(root, pid, "AIRS-CH0", "all-zero frame (dropped readout?) at frame 7 (1 such)")


def test_odd_frame_count(planet):
    """Frames are CDS pairs: one frame too few is refused even without axis_info to compare."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    _rewrite(path, lambda table: table.slice(0, table.num_rows - 1))
    _raises(lambda: io.read_signal(path, "FGS1"), path, "odd number of frames")
    _raises(lambda: next(io.iter_signal_chunks(path, "FGS1")), path, "odd number of frames")


def test_frame_count_disagrees_with_axis_info(planet):
    root, pid = planet
    n_frames = io.read_axis_info(root).n_frames("FGS1")
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    _rewrite(path, lambda table: table.slice(0, table.num_rows - 2))
    words = f"holds {n_frames - 2} frames but axis_info.parquet lists {n_frames} for FGS1"
    _raises(lambda: io.read_signal(path, "FGS1", n_frames), path, words)
    _refused(root, pid, "FGS1", path, words)


def test_missing_signal_file(planet):
    root, pid = planet
    path = io.signal_path(root, "train", pid, "AIRS-CH0", 0)
    path.unlink()
    _raises(lambda: io.read_signal(path, "AIRS-CH0"), path, "file not found")


def test_reader_ignores_signal_column_names(planet):
    """Not an error: only the count and order of signal columns matter, not their names."""
    root, pid = planet
    path = io.signal_path(root, "train", pid, "FGS1", 0)
    before = io.read_signal(path, "FGS1")
    _rewrite(path, lambda table: table.rename_columns([f"px{j:04d}" for j in range(1024)]))
    np.testing.assert_array_equal(io.read_signal(path, "FGS1"), before)


# --- calibration files and visits -----------------------------------------------------------


def test_missing_calibration_file(planet):
    root, pid = planet
    path = io.calibration_dir(root, "train", pid, "FGS1", 0) / "flat.parquet"
    path.unlink()
    _refused(root, pid, "FGS1", path, "file not found")


def test_nan_in_calibration_frame(planet):
    root, pid = planet
    path = io.calibration_dir(root, "train", pid, "AIRS-CH0", 0) / "dark.parquet"
    dark = pd.read_parquet(path)
    dark.iloc[3, 5] = np.nan
    dark.to_parquet(path, index=False)
    _refused(root, pid, "AIRS-CH0", path, "column 5 holds 1 missing (null or NaN) values")


def test_calibration_frame_of_wrong_shape(planet):
    root, pid = planet
    path = io.calibration_dir(root, "train", pid, "FGS1", 0) / "linear_corr.parquet"
    pd.read_parquet(path).iloc[:160].to_parquet(path, index=False)
    _refused(root, pid, "FGS1", path, "expected 192 rows, found 160")


def test_visit_missing_for_one_instrument(planet):
    """AIRS-CH0 has a visit 1 (signal and calibration), FGS1 has not."""
    root, pid = planet
    folder = io.planet_dir(root, "train", pid)
    shutil.copy(folder / "AIRS-CH0_signal_0.parquet", folder / "AIRS-CH0_signal_1.parquet")
    shutil.copytree(folder / "AIRS-CH0_calibration_0", folder / "AIRS-CH0_calibration_1")
    words = "instruments disagree on visits: FGS1 has [0], AIRS-CH0 has [0, 1]"
    _raises(lambda: io.discover_visits(root, "train", pid), folder, words)


def test_calibration_folder_missing(planet):
    root, pid = planet
    folder = io.calibration_dir(root, "train", pid, "FGS1", 0)
    shutil.rmtree(folder)
    _raises(
        lambda: io.discover_visits(root, "train", pid),
        folder,
        "calibration folder missing for FGS1_signal_0.parquet",
    )
    _refused(root, pid, "FGS1", folder, "calibration folder not found")


# --- top-level tables and planet discovery --------------------------------------------------


def test_missing_top_level_table(planet):
    root, _ = planet
    (root / "adc_info.csv").unlink()
    _raises(lambda: io.read_adc_info(root), root / "adc_info.csv", "file not found")


def test_planet_listed_without_a_folder(planet):
    root, pid = planet
    shutil.rmtree(io.planet_dir(root, "train", pid))
    _raises(
        lambda: io.list_planets(root, "train"),
        root / "train_star_info.csv",
        f"listed without a train/ folder: {pid}",
    )


def test_planet_folder_not_listed(planet):
    root, _ = planet
    pid = io.discover_planets(root, "test")[0]
    path = root / "test_star_info.csv"
    stars = pd.read_csv(path)
    stars[stars.planet_id != pid].to_csv(path, index=False)
    _raises(
        lambda: io.list_planets(root, "test"),
        io.planet_dir(root, "test", pid),
        f"not listed in {path}",
    )
    assert io.list_planets(root, "train") == io.discover_planets(root, "train")


def test_duplicate_planet_id_in_star_info(planet):
    root, pid = planet
    path = root / "train_star_info.csv"
    stars = pd.read_csv(path)
    pd.concat([stars, stars[stars.planet_id == pid]]).to_csv(path, index=False)
    _raises(lambda: io.list_planets(root, "train"), path, f"planet_id {pid} appears more than once")


def test_duplicate_planet_id_in_train_labels(planet):
    root, pid = planet
    path = root / "train.csv"
    labels = pd.read_csv(path)
    pd.concat([labels, labels[labels.planet_id == pid]]).to_csv(path, index=False)
    _raises(lambda: io.read_train_labels(root), path, f"planet_id {pid} appears more than once")


def test_star_info_with_non_integer_id(planet):
    root, _ = planet
    path = root / "test_star_info.csv"
    stars = pd.read_csv(path)
    stars.loc[0, "planet_id"] = 12.5
    stars.to_csv(path, index=False)
    _raises(lambda: io.read_star_info(root, "test"), path, "planet_id values must be whole numbers")


# --- submission -----------------------------------------------------------------------------


def test_submission_builder_refuses_negative_or_nan_sigma(tmp_path):
    mu, sigma = np.full((2, 283), 0.02), np.full((2, 283), 1e-4)
    sigma[0, 6], sigma[1, 40] = -1e-5, np.nan
    csv, archive = tmp_path / "submission.csv", tmp_path / "submission.zip"
    err = _raises(
        lambda: write_validated_submission([11, 22], mu, sigma, COLUMNS, [11, 22], csv, archive),
        csv,
        "NaN or infinite sigma values in columns sigma_41 (planets 22)",
        SubmissionError,
    )
    assert "negative sigma values in columns sigma_7 (planets 11)" in str(err)
    assert list(tmp_path.iterdir()) == []


def test_submission_with_wrong_column_order(tmp_path):
    """All sigma columns before the means: the validator names the first misplaced column."""
    frame = build_submission([11], np.full((1, 283), 0.02), np.full((1, 283), 1e-4), COLUMNS)
    path = tmp_path / "submission.csv"
    sigmas = [c for c in frame.columns if c.startswith("sigma_")]
    means = [c for c in frame.columns if c.startswith("wl_")]
    frame[["planet_id", *sigmas, *means]].to_csv(path, index=False)
    _raises(
        lambda: validate_submission(path, COLUMNS, [11]),
        path,
        "columns out of order from position 1: found 'sigma_1', expected 'wl_1'",
        SubmissionError,
    )


# --- workflow configuration -----------------------------------------------------------------


def snakemake(workdir: Path, *args: str) -> list[str]:
    return [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]


def _dry_run(workdir: Path, *config: str) -> tuple[int, str]:
    result = subprocess.run(
        snakemake(workdir, "-n", "--config", *config),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_unknown_config_key(tmp_path):
    code, output = _dry_run(tmp_path, "check_raws=true")
    assert code != 0
    assert "Additional properties are not allowed ('check_raws' was unexpected)" in output
    assert not (tmp_path / "results").exists()


def test_wrongly_typed_config_key(tmp_path):
    code, output = _dry_run(tmp_path, "seed=forty-two")
    assert code != 0
    assert "'forty-two' is not of type 'integer'" in output
    assert "On instance['seed']" in output
    assert not (tmp_path / "results").exists()


# --- hostile file systems and kill -9 -------------------------------------------------------

# Runs inside the namespace: write a netCDF (``.nc``) or a submission (csv + zip) of ``rows``
# rows to ``target``; print the error, if any, and what is left in its folder as JSON.
NAMESPACE_WRITER = """\
import hashlib, json, sys
from pathlib import Path
import numpy as np, xarray as xr
from spectramind.core.netcdf import write_netcdf
from spectramind.submission import build_submission, expected_columns, write_submission
target, rows = Path(sys.argv[1]), int(sys.argv[2])
flux = np.random.default_rng(0).normal(size=(rows, 283))
try:
    if target.suffix == ".nc":
        write_netcdf(xr.Dataset({"flux": (("time", "wavelength"), flux)}), target)
    else:
        frame = build_submission([11] * rows, flux**2, flux**2, expected_columns())
        write_submission(frame, target, target.with_suffix(".zip"))
    outcome = {"error": None}
except Exception as err:
    code = getattr(err, "errno", None)
    outcome = {"error": type(err).__name__, "errno": code, "message": str(err)}
files = sorted(target.parent.iterdir()) if target.parent.is_dir() else []
outcome["left"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
print(json.dumps(outcome))
"""


@pytest.fixture(scope="module")
def namespace() -> None:
    """Skip where user+mount namespaces are not allowed (some CI containers)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode:
        pytest.skip(f"no user+mount namespace: {probe.stderr.decode().strip()}")


def _in_namespace(mount: str, *writes: tuple[Path, int]) -> list[dict]:
    """Run ``mount`` (shell) then each write in one user+mount namespace."""
    runs = [f'{sys.executable} -c "$WRITER" {target} {rows}' for target, rows in writes]
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-ec", " && ".join([mount, *runs])],
        env={**os.environ, "WRITER": NAMESPACE_WRITER},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_read_only_results_folder(namespace, tmp_path):
    results = tmp_path / "results"
    (results / "fit").mkdir(parents=True)
    mount = f"mount --bind -o ro {results} {results}"
    fit, csv = results / "fit" / "1.nc", results / "submission" / "submission.csv"
    netcdf, submission = _in_namespace(mount, (fit, 10), (csv, 2))
    _names(netcdf["message"], fit, "could not write it: Read-only file system")
    _names(submission["message"], csv, "could not write it: Read-only file system")
    assert (netcdf["errno"], submission["errno"]) == (30, 30)  # EROFS
    assert netcdf["left"] == {} and submission["left"] == {}
    assert [p.name for p in results.rglob("*")] == ["fit"]


def test_no_space_left_on_device(namespace, tmp_path):
    """A 200 KiB disk: a small netCDF fits; a ~700 KB one (netCDF4 says only "HDF error")
    and a ~600 KB submission do not, and the first file survives intact."""
    disk = tmp_path / "disk"
    disk.mkdir()
    path = disk / "calibrated.nc"
    csv = disk / "submission.csv"
    first, full, table = _in_namespace(
        f"mount -t tmpfs -o size=200k tmpfs {disk}", (path, 10), (path, 300), (csv, 100)
    )
    assert first["error"] is None and list(first["left"]) == ["calibrated.nc"]
    for outcome, target in ((full, path), (table, csv)):
        assert outcome["error"] == "OutputError" and outcome["errno"] == 28  # ENOSPC
        _names(outcome["message"], target, "could not write it: No space left on device")
        assert outcome["left"] == first["left"]  # the first file, unchanged; no temp file


def test_writer_killed_mid_write_leaves_only_a_temp_file(tmp_path):
    """kill -9 during a write: the output never appears half-written, and the next write of
    it removes the dead writer's temp file."""
    target = tmp_path / "table.csv"
    code = """\
import sys, time
from spectramind.core.atomic import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_text("planet_id\\n1")
    print("writing", flush=True)
    time.sleep(60)
"""
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    assert writer.stdout.readline() == b"writing\n"
    writer.kill()
    writer.wait()
    assert [p.name for p in tmp_path.iterdir()] == [f".table.csv.tmp-{writer.pid}"]
    write_csv_atomic(target, pd.DataFrame({"planet_id": [1, 2]}))
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    assert target.read_text() == "planet_id\n1\n2\n"


def _output_digests(workdir: Path) -> dict[str, str]:
    """sha256 of every output the manifests list (not the manifests: they hold timestamps)."""
    digests = {}
    for manifest in sorted((workdir / "results/manifests").rglob("*.json")):
        for name in json.loads(manifest.read_text())["outputs"]:
            digests[name] = hashlib.sha256((workdir / name).read_bytes()).hexdigest()
    return digests


def _mid_run(workdir: Path) -> bool:
    """At least four jobs finished (their manifests exist) and one is running (Snakemake
    keeps a marker in .snakemake/incomplete/ until it sees the job end)."""
    running = workdir / ".snakemake/incomplete"
    finished = list((workdir / "results/manifests").rglob("*.json"))
    return len(finished) >= 4 and running.is_dir() and any(running.iterdir())


@pytest.mark.slow  # two workflow runs (90 s on a busy 2-core machine)
def test_kill_9_then_rerun_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL the whole workflow (Snakemake and its jobs) once a few jobs finished; after
    --unlock, a --rerun-incomplete run completes with the bytes of an uninterrupted run
    (made meanwhile in another folder)."""
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_WORKFLOW)
    run = ("--cores", "2", "--configfile", str(config))
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("clean", "killed")}
    started = [
        subprocess.Popen(
            snakemake(workdir, *run),
            stdout=logs[workdir.name],
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches every job
        )
        for workdir in (clean, killed)
    ]
    reference, victim = started
    try:
        deadline = time.monotonic() + 300
        while not _mid_run(killed):
            assert victim.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the workflow did not get under way in 5 minutes"
            time.sleep(0.2)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        assert _mid_run(killed)
        assert not (killed / "results/submission/submission.zip").exists()
        for extra in ("--unlock", "--rerun-incomplete"):  # kill -9 leaves Snakemake's lock
            again = subprocess.run(
                snakemake(killed, *run, extra), capture_output=True, text=True, check=False
            )
            assert again.returncode == 0, again.stderr[-3000:]
        assert reference.wait(timeout=600) == 0, (tmp_path / "clean.log").read_text()[-3000:]
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs.values():
            log.close()
    ours, theirs = _output_digests(killed), _output_digests(clean)
    assert len(theirs) > 30 and "results/submission/submission.zip" in theirs
    assert ours == theirs
    assert not list((killed / "results").rglob(".*.tmp-*"))
