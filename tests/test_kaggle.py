"""Kaggle, offline: the bundle (rule kaggle_bundle), the offline install, the runtime guard
and its fallback submission, the notebooks and their metadata templates.

The end-to-end test stands in for a Kaggle notebook: the bundle built from the session's
simulated run (predictor physics) for this machine's Python, a /kaggle/input-shaped tree
with only the test planets, mounted read-only, a fresh venv holding only the image's
preinstalled packages (config kaggle.preinstalled, at pyproject's pins), and the inference
notebook's code run in it, in an empty folder, with networking cut (``unshare -rn``): the
offline install from the bundle's wheelhouse, the guard, the workflow, submission.csv.
Without user and mount namespaces that test skips, except under CI (``CI=true``): it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from workflow_runs import REPO, VALIDATE, snakemake

from spectramind.core.netcdf import write_netcdf
from spectramind.guards.prior_predictive import learn_prior_predictive
from spectramind.io.tables import sigma_columns, target_columns
from spectramind.kaggle.fallback import write_fallback_submission
from spectramind.kaggle.guard import Probe, estimate_run
from spectramind.kaggle.image import ImageError, check_image
from spectramind.kaggle.layout import WHEELHOUSE, source_files
from spectramind.kaggle.options import KaggleOptions
from spectramind.kaggle.run import run_snakemake
from spectramind.kaggle.wheelhouse import (
    Target,
    WheelhouseError,
    copy_wheelhouse,
    local_python,
    preinstalled_pins,
    relaxed_pyproject,
)
from spectramind.submission import validate_submission

NOTEBOOKS = {
    "inference": REPO / "kaggle/inference/spectramind-v50-inference.ipynb",
    "training": REPO / "kaggle/training/spectramind-v50-training.ipynb",
}
# What a test-only Kaggle input holds (no train/, train.csv or train_star_info.csv).
TEST_ONLY = ("test", "test_star_info.csv", "axis_info.parquet", "wavelengths.csv",
             "adc_info.csv", "sample_submission.csv")  # fmt: skip
# Mount the folder $0 read-only in a new mount namespace, then run the command "$@".
READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
HOUR = 3600.0


def config_options() -> KaggleOptions:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return KaggleOptions.from_config(config["kaggle"])


# ------------------------------------------------------------------------- runtime guard


def test_guard_excludes_the_start_up_and_extrapolates_per_planet():
    probe = Probe(planets=8, seconds=100.0, startup_seconds=20.0)
    assert probe.seconds_per_planet == 10.0
    estimate = estimate_run(probe, 1100, elapsed_seconds=160.0, final_stage_seconds=600.0,
                            budget_seconds=8 * HOUR)  # fmt: skip
    assert estimate.remaining_planets == 1092
    assert estimate.total_seconds == pytest.approx(160 + 1092 * 10 + 600)
    assert estimate.fits
    assert "running the rest" in estimate.message()


def test_guard_stops_when_the_projection_overruns():
    probe = Probe(planets=8, seconds=260.0, startup_seconds=20.0)  # 30 s a planet
    estimate = estimate_run(probe, 1100, 300.0, 1200.0, budget_seconds=8 * HOUR)
    assert estimate.total_seconds > 8 * HOUR  # 1092 x 30 s = 9.1 h
    assert not estimate.fits
    message = estimate.message()
    assert "STOPPING EARLY" in message and "fallback submission" in message
    assert "9.52 h" in message and "8.00 h" in message


def test_guard_without_a_finished_planet_stops_and_with_none_left_only_adds_the_tail():
    stalled = estimate_run(Probe(0, 500.0, 20.0), 1100, 600.0, 0.0, 8 * HOUR)
    assert not stalled.fits and "no planet finished" in stalled.message()
    assert "never" in stalled.message()
    done = estimate_run(Probe(4, 50.0, 10.0), 4, 60.0, 30.0, 8 * HOUR)
    assert done.remaining_planets == 0 and done.total_seconds == 90.0 and done.fits


def test_budget_is_the_limit_less_the_margin_and_the_margin_must_leave_some():
    assert config_options().budget_seconds == (9.0 - 1.0) * HOUR
    with pytest.raises(ValueError, match="safety_margin_h"):
        KaggleOptions(time_limit_h=1.0, safety_margin_h=1.0)


def test_watchdog_stops_a_run_at_the_deadline(tmp_path):
    """The full run's watchdog: a command still running at the deadline is stopped with
    its whole process group (here a shell and the sleep it started)."""
    marker = tmp_path / "child.pid"
    command = ["sh", "-c", f"sleep 60 & echo $! > {marker}; wait"]
    start = time.time()
    assert run_snakemake(command, dict(os.environ), deadline=start + 1.0) is None
    assert time.time() - start < 30
    stat = Path(f"/proc/{int(marker.read_text())}/stat")
    time.sleep(0.2)
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")  # gone or dead
    assert run_snakemake(["true"], dict(os.environ), deadline=time.time() + 60) == 0


# ------------------------------------------------------------------------- fallback


def write_fit(path: Path, depth: float) -> None:
    channels = len(target_columns())
    fit = xr.Dataset({"depth": ("channel", np.full(channels, depth)),
                      "sigma": ("channel", np.full(channels, 1e-4))})  # fmt: skip
    write_netcdf(fit, path)


def fallback_inputs(tmp_path: Path, ids: list[int], naive: str) -> tuple[Path, Path, list]:
    """A competition folder (test star table, sample submission) of ``ids`` and an artifacts
    folder with the naive reference ``naive`` (JSON): the fallback submission's inputs."""
    competition = tmp_path / "competition"
    competition.mkdir()
    (competition / "test_star_info.csv").write_text(
        "planet_id,Rs,Ms,Ts,Mp,e,P,sma,i\n"
        + "".join(f"{i},1.0,1.0,5700,1.0,0.0,3.0,10.0,89.0\n" for i in ids)
    )
    columns = ["planet_id", *target_columns(), *sigma_columns()]
    (competition / "sample_submission.csv").write_text(",".join(columns) + "\n")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "naive_reference.json").write_text(naive)
    return competition, artifacts, columns


def test_fallback_submission_is_valid_with_fits_for_some_planets_or_none(tmp_path):
    ids = [11, 7, 42]
    competition, artifacts, columns = fallback_inputs(
        tmp_path, ids, '{"mean": 0.01, "sigma": 0.002}'
    )
    working = tmp_path / "working"
    write_fit(working / "results/fit/test/7.nc", 0.02)
    out = tmp_path / "out"
    filled = write_fallback_submission(working, competition, artifacts,
                                       out / "submission.csv", out / "submission.zip")  # fmt: skip
    assert filled == {11: "naive", 42: "naive"}
    frame = validate_submission(out / "submission.csv", columns, ids)
    assert frame["planet_id"].tolist() == ids
    assert frame.set_index("planet_id").loc[7, "wl_1"] == pytest.approx(0.02)
    assert frame.set_index("planet_id").loc[42, "sigma_5"] == pytest.approx(0.002)
    shutil.rmtree(working)
    filled = write_fallback_submission(working, competition, artifacts,
                                       out / "submission.csv", out / "submission.zip")  # fmt: skip
    assert list(filled) == ids
    validate_submission(out / "submission.csv", columns, ids)


def test_fallback_submission_takes_the_prior_predictive_when_the_bundle_has_it(tmp_path):
    ids = [11, 7]
    competition, artifacts, columns = fallback_inputs(tmp_path, ids, '{"mean": 0.5, "sigma": 0.25}')
    rng = np.random.default_rng(0)
    train = pd.DataFrame(0.01 * (1.0 + 0.01 * rng.standard_normal((5, len(target_columns())))))
    stars = pd.DataFrame({c: [1.0] * 5 for c in ("Rs", "Ms", "Ts", "Mp", "e", "P", "sma", "i")})
    prior = learn_prior_predictive(train, stars)
    (artifacts / "prior_predictive.json").write_text(json.dumps(prior.to_dict()))
    out = tmp_path / "out"
    filled = write_fallback_submission(tmp_path / "working", competition, artifacts,
                                       out / "submission.csv", out / "submission.zip")  # fmt: skip
    assert filled == {11: "prior_predictive", 7: "prior_predictive"}
    frame = validate_submission(out / "submission.csv", columns, ids).set_index("planet_id")
    assert frame.loc[7, "wl_3"] == pytest.approx(0.01, rel=0.05)
    # An unreadable prior predictive is not worth failing the last-resort submission for.
    (artifacts / "prior_predictive.json").write_text('{"method": "mean"}')
    filled = write_fallback_submission(tmp_path / "working", competition, artifacts,
                                       out / "submission.csv", out / "submission.zip")  # fmt: skip
    assert filled == {11: "naive", 7: "naive"}


# ------------------------------------------------------------------------- wheelhouse parts


def test_target_takes_manylinux_and_pure_wheels_for_its_python_only():
    target = Target.kaggle_image("3.12", "2.35")
    assert {"manylinux_2_35_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"} <= set(
        target.platforms
    )
    assert "manylinux_2_36_x86_64" not in target.platforms
    accepted = [
        "numba-0.68.1-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "pyerfa-2.0.1.5-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "snakemake-9.27.1-py3-none-any.whl",
        "humanfriendly-10.0-py2.py3-none-any.whl",
    ]
    refused = [
        "numba-0.68.1-cp311-cp311-manylinux_2_27_x86_64.whl",  # another Python
        "numba-0.68.1-cp312-cp312-manylinux_2_39_x86_64.whl",  # a newer glibc
        "numba-0.68.1-cp312-cp312-macosx_11_0_arm64.whl",
        "pyerfa-2.0.1.5-cp313-abi3-manylinux2014_x86_64.whl",  # abi3 from a newer Python
    ]
    assert all(target.accepts(name) for name in accepted)
    assert not any(target.accepts(name) for name in refused)


def test_project_wheel_drops_only_the_pins_of_preinstalled_packages():
    text = (REPO / "pyproject.toml").read_text()
    relaxed = relaxed_pyproject(text, config_options().preinstalled)
    assert '"numpy"' in relaxed and '"torch"' in relaxed and '"tqdm"' in relaxed
    assert '"numpy==' not in relaxed and '"torch==' not in relaxed
    assert '"xarray==2026.9.0"' in relaxed and '"snakemake==9.27.1"' in relaxed
    assert relaxed.count("\n") == text.count("\n")


def test_every_preinstalled_package_has_a_tested_version():
    versions = preinstalled_pins(REPO / "pyproject.toml", config_options().preinstalled)
    assert versions["torch"] == "2.13.0" and versions["pyyaml"] == "6.0.3"
    with pytest.raises(WheelhouseError, match="cudf"):
        preinstalled_pins(REPO / "pyproject.toml", ["numpy", "cudf"])


def test_image_check_names_a_wrong_python_and_a_missing_package_and_notes_versions():
    manifest = {"python_version": local_python(),
                "preinstalled": {"numpy": "0.0.1", "pyyaml": yaml.__version__}}  # fmt: skip
    notes = check_image(manifest)
    assert len(notes) == 1 and notes[0].startswith("numpy ") and "tested with 0.0.1" in notes[0]
    with pytest.raises(ImageError, match=r"Python 3\.99.*\n.*no-such-package is not installed"):
        check_image(manifest | {"preinstalled": {"no-such-package": "1.0"}}, python_version="3.99")


def test_bundle_copies_sources_without_caches_or_results():
    files = [Path(f).relative_to(REPO).as_posix() for f in source_files(REPO)]
    assert "Snakefile" in files and "rules/kaggle.smk" in files
    assert "spectramind/data/wavelengths.csv" in files and "config/schema.yaml" in files
    assert "config/config.yaml" not in files  # the training run's config is written instead
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert not [f for f in files if f.startswith(("results", "tests", ".venv"))]


# ------------------------------------------------------------------------- notebooks, templates


@pytest.mark.parametrize("kind", NOTEBOOKS)
def test_notebook_is_nbformat_4_and_plain_python_calling_the_driver(kind):
    notebook = nbformat.read(NOTEBOOKS[kind], as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not line.lstrip().startswith(("!", "%")) for c in code for line in c.splitlines())
    compile("\n\n".join(code), NOTEBOOKS[kind].name, "exec")
    assert all(not cell.get("outputs") for cell in notebook.cells)
    assert '"spectramind.kaggle"' in "".join(code) and 'spectramind("install"' in "".join(code)


@pytest.mark.parametrize("kind", NOTEBOOKS)
def test_kernel_metadata_template_pushes_its_notebook_offline(kind):
    metadata = json.loads((NOTEBOOKS[kind].parent / "kernel-metadata.json").read_text())
    assert metadata["code_file"] == NOTEBOOKS[kind].name
    assert metadata["kernel_type"] == "notebook" and metadata["language"] == "python"
    assert metadata["enable_internet"] is False
    assert metadata["competition_sources"] == ["ariel-data-challenge-2025"]
    assert metadata["dataset_sources"] == [config_options().dataset_id]
    assert {"id", "title"} <= set(metadata)


def test_profile_reads_the_configured_kaggle_folders():
    options = config_options()
    profile = yaml.safe_load((REPO / "profiles/kaggle/config.yaml").read_text())
    settings = dict(entry.split("=", 1) for entry in profile["config"])
    assert settings["raw_dir"] == options.competition_dir
    assert settings["artifacts_dir"] == f"{options.bundle_dir}/artifacts"
    dataset = json.loads((REPO / "kaggle/dataset-metadata.json").read_text())
    assert dataset["id"] == options.dataset_id and dataset["licenses"]


# ------------------------------------------------------------------------- end to end

# The bundle's wheelhouse and the stand-in image are downloaded from the package index:
# the tests using them are marked network (make test-all, CI), not in the offline make test.


def missing_namespaces(folder: Path) -> str | None:
    """Why this machine cannot cut a process's network and mount a folder read-only for it
    (unprivileged user and mount namespaces); None when it can."""
    try:
        probe = subprocess.run(["unshare", "-rnm", "sh", "-c", READ_ONLY, str(folder), "true"],
                               capture_output=True, text=True, check=False)  # fmt: skip
    except FileNotFoundError:
        return "no unshare command"
    if probe.returncode:
        return f"no user and mount namespaces (unshare -rnm): {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in for /kaggle: input/ and working/ folders."""
    return tmp_path_factory.mktemp("kaggle")


@pytest.fixture(scope="module")
def image_build(kaggle):
    """The stand-in Kaggle image, started in the background (it installs while the bundle
    builds): a fresh venv with only the preinstalled packages, at pyproject's pins, from
    the package index (network is allowed while it is set up). Not built where the offline
    test cannot run: then the reason instead."""
    reason = missing_namespaces(kaggle)
    if reason:
        yield reason
        return
    image = kaggle / "image"
    pins = preinstalled_pins(REPO / "pyproject.toml", config_options().preinstalled)
    packages = " ".join(f"{name}=={version}" for name, version in pins.items())
    script = (f'"{sys.executable}" -m venv "{image}" && "{image}/bin/python" -m pip install '
              f"--quiet --no-input --no-compile {packages}")  # fmt: skip
    process = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    yield image, process
    process.kill()


@pytest.fixture(scope="module")
def bundle(image_build, simulated_run, tmp_path_factory) -> Path:
    """The bundle built by its rule from the session's simulated run (its raw root and
    artifacts, read as given) for this machine's Python; probing one planet. (The image
    starts installing first, to overlap with the run and this build.)"""
    workdir = tmp_path_factory.mktemp("bundle")
    (workdir / "kaggle.yaml").write_text(
        f'kaggle:\n  python_version: "{local_python()}"\n  probe_jobs: 1\n'
    )
    result = snakemake(
        workdir, "kaggle_bundle", "--cores", "1",
        "--configfile", str(simulated_run / "small.yaml"), str(workdir / "kaggle.yaml"),
        "--config", f"raw_dir={simulated_run}/results/raw",
        f"artifacts_dir={simulated_run}/results/artifacts",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir / "results/kaggle/bundle"


@pytest.fixture(scope="module")
def kaggle_input(kaggle, simulated_run, bundle) -> Path:
    """/kaggle/input: the competition's data with only the test planets, and the bundle."""
    raw = simulated_run / "results/raw"
    competition = kaggle / "input/ariel-data-challenge-2025"
    competition.mkdir(parents=True)
    for name in TEST_ONLY:
        copy = shutil.copytree if (raw / name).is_dir() else shutil.copy2
        copy(raw / name, competition / name)
    shutil.copytree(bundle, kaggle / "input/spectramind-v50")
    # A planet per job, not the profile's ten: the probe (one job) then leaves the second
    # of the two test planets for the guard to extrapolate to.
    profile = kaggle / "input/spectramind-v50/profiles/kaggle/config.yaml"
    profile.write_text(profile.read_text().replace("planets_per_job=10", "planets_per_job=1"))
    subprocess.run(["chmod", "-R", "a-w", str(kaggle / "input")], check=True)
    return kaggle / "input"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def validated(submission: Path, competition: Path) -> str:
    """The project's validator (its command line) on a submission; its report."""
    result = subprocess.run(
        [VALIDATE, str(submission), "--sample", str(competition / "sample_submission.csv"),
         "--test-ids", str(competition / "test_star_info.csv")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.network
def test_bundle_holds_code_training_config_artifacts_and_wheelhouse(bundle):
    manifest = json.loads((bundle / "bundle.json").read_text())
    config = yaml.safe_load((bundle / "config/config.yaml").read_text())
    assert config["predictor"] == "physics" and config["check_raw"] is True  # the run's
    assert config["raw_dir"] == "/kaggle/input/ariel-data-challenge-2025"
    assert config["artifacts_dir"] == "/kaggle/input/spectramind-v50/artifacts"
    assert set(manifest["artifacts"]) == {
        "limb_darkening_prior.json", "white_light_error_scale.json", "spectral_prior.json",
        "naive_reference.json", "prior_predictive.json", "sigma_calibration.json",
    }  # fmt: skip
    wheels = {p.name.split("-")[0].lower() for p in (bundle / WHEELHOUSE).glob("*.whl")}
    assert {"spectramind", "snakemake", "xarray", "numba", "batman_package", "netcdf4",
            "astropy", "torch_geometric", "mambapy"} <= wheels  # fmt: skip
    assert not wheels & {"numpy", "pandas", "scipy", "torch", "pyarrow", "matplotlib", "tqdm",
                         "pyyaml", "triton"}  # fmt: skip
    assert not [n for n in wheels if n.startswith("nvidia")]
    assert manifest["wheels"] == len(wheels) and (bundle / "dataset-metadata.json").is_file()
    print(f"bundle {manifest['bundle_bytes'] / 1e6:.1f} MB, wheelhouse "
          f"{manifest['wheelhouse_bytes'] / 1e6:.1f} MB, {manifest['wheels']} wheels")  # fmt: skip


@pytest.mark.network
def test_offline_kaggle_inference_in_a_bare_image(image_build, kaggle_input, kaggle):
    """The inference notebook, as Kaggle runs it: install offline from the bundle into the
    image, the runtime guard (one planet probed), the workflow, submission.csv, validated;
    nothing written outside the working folder."""
    if isinstance(image_build, str):
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set and the offline test cannot run: {image_build}", pytrace=False)
        pytest.skip(image_build)
    image, process = image_build
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-3000:]
    competition = kaggle_input / "ariel-data-challenge-2025"
    working, home, cwd = kaggle / "working", kaggle / "home", kaggle / "cwd"
    for folder in (working, home, cwd):
        folder.mkdir()
    notebook = nbformat.read(NOTEBOOKS["inference"], as_version=4)
    script = kaggle / "inference.py"
    script.write_text("\n\n".join(c.source for c in notebook.cells if c.cell_type == "code"))
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # the image's: no tools of this machine's user
        "HOME": str(home), "OMP_NUM_THREADS": "1",
        "PIP_CONFIG_FILE": os.devnull,  # pip sees only the bundle: no index, no find-links
        "SPECTRAMIND_BUNDLE": str(kaggle_input / "spectramind-v50"),
        "SPECTRAMIND_COMPETITION": str(competition), "SPECTRAMIND_WORKING": str(working),
    }  # fmt: skip
    before = snapshot(kaggle_input)
    start = time.perf_counter()
    result = subprocess.run(
        ["unshare", "-rnm", "sh", "-c", READ_ONLY, str(kaggle_input),
         str(image / "bin/python"), str(script)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert "--no-index --find-links" in result.stdout
    record = json.loads((working / "kaggle_run.json").read_text())
    assert record["status"] == "complete", record
    assert record["probe"]["planets"] == 1 and record["fitted_planets"] == 2
    assert "runtime guard: 1 planet(s)" in result.stdout and "running the rest" in result.stdout
    assert "valid, 2 planets" in validated(working / "submission.csv", competition)
    assert snapshot(kaggle_input) == before
    assert not list(home.iterdir()) and not list(cwd.iterdir())
    print(f"offline notebook run {seconds:.0f} s")


@pytest.mark.network
def test_guard_stops_early_with_a_valid_fallback(bundle, kaggle_input, tmp_path):
    """A budget the probe overruns: the watchdog stops it, the guard decides, and a valid
    fallback submission (every planet naive: none was fitted) is published."""
    tight = tmp_path / "bundle"
    shutil.copytree(bundle, tight, ignore=shutil.ignore_patterns(WHEELHOUSE))
    config_file = tight / "config/config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["kaggle"] |= {"time_limit_h": 0.001, "safety_margin_h": 0.0}  # 3.6 s
    config_file.write_text(yaml.safe_dump(config))
    competition, working = kaggle_input / "ariel-data-challenge-2025", tmp_path / "working"
    result = subprocess.run(
        [sys.executable, "-m", "spectramind.kaggle", "infer", "--bundle", str(tight),
         "--competition", str(competition), "--working", str(working)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "STOPPING EARLY" in result.stdout and "FALLBACK SUBMISSION" in result.stdout
    record = json.loads((working / "kaggle_run.json").read_text())
    assert record["status"].startswith("fallback: the runtime guard")
    assert "valid, 2 planets" in validated(working / "submission.csv", competition)


@pytest.mark.network
def test_training_notebook_commands_plan_a_new_bundle_offline(bundle, simulated_run, tmp_path):
    """The training notebook's steps on a root with train planets (dry runs): the
    artifacts from the train split, then a bundle reusing the attached one's wheelhouse."""
    for args in (["--until", "calibrate_sigma"], ["kaggle_bundle"]):
        result = subprocess.run(
            [sys.executable, "-m", "spectramind.kaggle", "snakemake", "--bundle", str(bundle),
             "--competition", str(simulated_run / "results/raw"), "--working", str(tmp_path),
             "--train", "--", *args, "--dry-run"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        assert "calibrate_sigma" in result.stdout and "This was a dry-run" in result.stdout
    overrides = yaml.safe_load((tmp_path / "kaggle_training.yaml").read_text())
    assert overrides["kaggle"]["wheelhouse_from"] == str(bundle / WHEELHOUSE)


@pytest.mark.network
def test_wheelhouse_is_reused_only_for_the_python_it_was_built_for(bundle, tmp_path):
    pyproject, preinstalled = bundle / "pyproject.toml", config_options().preinstalled
    here = Target.kaggle_image(local_python(), "2.35")
    manifest = copy_wheelhouse(bundle / WHEELHOUSE, tmp_path / "copy", here, preinstalled,
                               pyproject)  # fmt: skip
    assert sorted(manifest["wheels"]) == sorted(p.name for p in (tmp_path / "copy").glob("*.whl"))
    other = Target.kaggle_image("3.99", "2.35")
    with pytest.raises(WheelhouseError, match="python_version.*network"):
        copy_wheelhouse(bundle / WHEELHOUSE, tmp_path / "other", other, preinstalled, pyproject)
