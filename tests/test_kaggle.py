"""Kaggle, offline: the image descriptions (kaggle/images/, describe-image), the bundle
(rule kaggle_bundle) and its wheelhouse, the image check and offline install, the runtime
guard and its fallback submission, the build tools' check, the notebooks and their metadata
templates.

The end-to-end tests stand in for a Kaggle notebook on each image: a fresh venv of the
image's Python holding the image's packages at the described versions (their dependencies as
published before the image's date), a bundle built by its rule from the session's simulated
run (predictor physics), a /kaggle/input-shaped tree with only the test planets, mounted
read-only, and the inference notebook's code run in the venv, in an empty folder, with
networking cut (``unshare -rnm``): the image check, the offline install from the bundle's
wheelhouse, the guard, the workflow, submission.csv. Without user and mount namespaces these
tests skip, except under CI (``CI=true``): they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

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
from spectramind.kaggle.description import (
    DescriptionError,
    ImageDescription,
    canonical,
    describe_running_image,
    image_file,
    parse_description,
    read_description,
)
from spectramind.kaggle.fallback import write_fallback_submission
from spectramind.kaggle.guard import Probe, estimate_run
from spectramind.kaggle.image import (
    ImageError,
    RunningImage,
    check_image,
    compare_image,
    in_range,
    replaced_packages,
)
from spectramind.kaggle.layout import WHEELHOUSE, install_command, source_files
from spectramind.kaggle.options import KaggleOptions
from spectramind.kaggle.run import run_snakemake
from spectramind.kaggle.tools import MIN_PIP, ToolError, check_build_tools, check_bundle_tools
from spectramind.kaggle.wheelhouse import (
    Target,
    WheelhouseError,
    conflict_names,
    copy_wheelhouse,
    read_pins,
    supported_ranges,
    unavailable,
    write_stub,
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


def test_the_default_image_is_the_2025_competition_image_and_a_newer_one_is_described():
    assert config_options().image == KaggleOptions().image == "kaggle-2025"
    old = read_description(image_file("kaggle-2025", REPO))
    assert (old.python, old.python_version, old.glibc) == ("3.11.13", "3.11", "2.35")
    issue = {"numpy": "1.26.4", "scipy": "1.15.3", "pandas": "2.2.3", "matplotlib": "3.7.2",
             "scikit-learn": "1.2.2", "pyarrow": "19.0.1"}  # fmt: skip
    assert issue.items() <= old.packages.items()
    assert {"torch", "tqdm", "pyyaml"} <= set(old.packages)
    new = read_description(image_file("kaggle-2026", REPO))
    assert new.python_version == "3.12" and new.packages["numpy"].startswith("2.")
    assert any("STAND-IN" in line for line in new.comments)
    for image in (old, new):  # the header says where the numbers come from
        assert any(line.startswith("read:") for line in image.comments)
        assert parse_description(image.text(), image.name) == image
    assert image_file("my/image.txt", REPO) == Path("my/image.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# glibc: 2.35\n# platform: linux x86_64\nnumpy==1\n", "python"),
        ("# python: 3.11\n# glibc: 2.35\n# platform: linux x86_64\nnumpy>=1\n", "name==version"),
        ("# python: 3.11\n# glibc: 2.35\n# platform: linux x86_64\nnumpy==1\nNumPy==2\n", "twice"),
        ("# python: 3.11\n# glibc: 2.35\n# platform: darwin arm64\n", "only 'linux x86_64'"),
        ("# python: 3\n# glibc: 2.35\n# platform: linux x86_64\n", "like 3.11.13"),
    ],
)  # fmt: skip
def test_a_bad_description_is_refused_naming_what(text, message):
    with pytest.raises(DescriptionError, match=message):
        parse_description(text, "bad")


def test_an_unknown_image_name_lists_the_known_ones(tmp_path):
    with pytest.raises(DescriptionError, match="kaggle-2025, kaggle-2026"):
        read_description(image_file("kaggle-1999", REPO))


def test_describe_image_reads_this_interpreter_and_its_packages():
    image = describe_running_image(where="a test")
    assert image.python == ".".join(map(str, sys.version_info[:3]))
    assert image.packages["numpy"] == np.__version__ and image.packages["pyyaml"]
    assert "snakemake" in image.packages and "packaging" in image.packages  # what they need
    assert "pip" not in image.packages and image.pip and "spectramind" not in image.packages
    result = subprocess.run(
        [sys.executable, "-m", "spectramind.kaggle", "describe-image", "--where", "here"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    written = parse_description(result.stdout, "written")
    assert any("here" in c for c in written.comments) and written.python == image.python
    stack = ("numpy", "scipy", "snakemake", "torch", "xarray")
    assert {n: written.packages[n] for n in stack} == {n: image.packages[n] for n in stack}


def test_pins_are_read_from_a_lock_in_requirements_format(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "# comment\n--index-url https://example.org\nNumPy==2.4.6\n"
        "netCDF4==1.7.5.1.post1 ; python_version >= '3.11'\n"
        "xarray==2026.9.0 \\\n    --hash=sha256:abc\nscipy>=1.15\n  Py_Yaml==6.0.3  # note\n"
    )
    assert read_pins(lock) == {"numpy": "2.4.6", "netcdf4": "1.7.5.1.post1",
                               "xarray": "2026.9.0", "py-yaml": "6.0.3"}  # fmt: skip


# What pip prints when it cannot resolve (stdout), abridged.
PIP_CONFLICT = """\
ERROR: Cannot install spectramind because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested numpy==1.26.4
    astropy 8.0.2 depends on numpy>=2.0
    The user requested (constraint) astropy==8.0.2

Additionally, some packages in these conflicts have no matching distributions available for \
your environment:
    connection-pool

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/...
"""


def test_pip_conflicts_and_missing_wheels_are_read_from_its_output():
    assert {"numpy", "astropy"} <= conflict_names(PIP_CONFLICT)
    assert "connection-pool" not in conflict_names(PIP_CONFLICT)
    assert unavailable(PIP_CONFLICT) == ["connection-pool"]
    assert unavailable("ERROR: No matching distribution found for llvmlite<0.51") == [
        "llvmlite<0.51"
    ]


def test_supported_ranges_are_what_the_resolved_wheels_require_of_the_image():
    items = [
        {"metadata": {"name": "spectramind", "requires_dist": [
            "numpy>=1.26", "torch>=2.3; extra == 'model'", "pytest; extra == 'dev'"]},
         "requested_extras": ["model"]},
        {"metadata": {"name": "numba", "requires_dist": ["numpy<2.6,>=1.22", "llvmlite"]}},
        {"metadata": {"name": "old", "requires_dist": ["numpy<1; python_version < '3.8'",
                                                        "pyyaml"]}},
    ]  # fmt: skip
    held = ["numpy", "torch", "pyyaml", "pytest", "scikit-learn"]
    ranges = supported_ranges(items, held, Target.kaggle_image("3.11", "2.35"), "3.11.13")
    assert ranges == {"numpy": "<2.6,>=1.22,>=1.26", "pyyaml": "", "torch": ">=2.3"}


def described(**packages):
    """A wheelhouse manifest's image block: Python 3.11.13, numpy needed (>=1.26,<3), torch
    needed (any version), scikit-learn not needed."""
    return {
        "name": "kaggle-test", "python": "3.11.13", "glibc": "2.35",
        "packages": {"numpy": "1.26.4", "torch": "2.6.0+cu124", "scikit-learn": "1.2.2"},
        "ranges": {"numpy": ">=1.26,<3", "torch": ""},
    } | packages  # fmt: skip


def running(python="3.11.13", glibc="2.35", **packages):
    found = {"numpy": "1.26.4", "torch": "2.6.0+cu124", "scikit-learn": "1.2.2"}
    return RunningImage(python, glibc, {**found, **packages})


def test_image_check_says_what_differs_and_whether_it_matters():
    assert check_image({"image": described()}, running()).endswith("as described")
    fine = check_image({"image": described()},
                       running("3.11.7", "2.39", numpy="2.4.6", torch="2.13.0+cpu"))  # fmt: skip
    assert "the differences do not matter" in fine
    assert "note: Python 3.11.7 (described 3.11.13)" in fine
    assert "note: numpy 2.4.6 (described 1.26.4): within the supported range >=1.26,<3" in fine
    assert "note: torch 2.13.0+cpu" in fine
    # an unneeded package missing is a note (RunningImage uses canonical names)
    note = check_image({"image": described()}, RunningImage("3.11.13", "2.35", {
        "numpy": "1.26.4", "torch": "2.6.0+cu124", "scikit-learn": None}))  # fmt: skip
    assert "scikit-learn is missing (described 1.2.2); nothing of the bundle needs it" in note
    with pytest.raises(ImageError) as error:
        check_image({"image": described()}, RunningImage("3.12.1", "2.31", {
            "numpy": "1.25.0", "torch": None, "scikit-learn": "1.2.2"}))  # fmt: skip
    message = str(error.value)
    assert "4 difference(s) stop the run" in message
    assert "error: Python 3.12.1 runs here, the wheelhouse is for Python 3.11" in message
    assert "error: glibc 2.31 (described 2.35)" in message
    assert "error: numpy 1.25.0 (described 1.26.4): outside the supported range" in message
    assert "error: torch is missing (described 2.6.0+cu124), and the bundle needs it" in message
    assert "describe-image" in message
    assert in_range("2.13.0+cpu", ">=2.3") and not in_range("1.25", ">=1.26,<3")
    differences = compare_image(described(), running())
    assert differences == []


def test_install_reports_a_replaced_image_package():
    before = {"numpy": "1.26.4", "packaging": "26.0", "six": "1.17.0"}
    after = {"numpy": "1.26.4", "packaging": "25.0", "xarray": "2026.9.0"}
    assert replaced_packages(before, after) == ["packaging 26.0 -> 25.0", "six 1.17.0 -> removed"]


def test_build_tools_are_checked_naming_found_needed_and_fix():
    needed = ".".join(map(str, MIN_PIP))
    assert check_build_tools(pip=needed, python=(3, 11), executable="py").startswith("pip 23.3")
    with pytest.raises(ToolError) as error:
        check_build_tools(pip="23.2.1", python=(3, 11), executable="/venv/bin/python")
    message = str(error.value)
    assert "pip 23.2.1 (/venv/bin/python) found, pip 23.3 or newer needed" in message
    assert "/venv/bin/python -m pip install -U pip" in message
    with pytest.raises(ToolError, match=r"Python 3\.10 .* found, Python 3\.11 or newer"):
        check_build_tools(pip="26.0", python=(3, 10))
    with pytest.raises(ToolError, match="no pip in .*ensurepip"):
        check_build_tools(pip=None, python=(3, 11))
    check_build_tools()  # this venv's own pip and Python build bundles


def test_workflow_start_checks_the_tools_only_when_it_builds_a_wheelhouse(monkeypatch):
    """rules/kaggle.smk's onstart: with a kaggle_bundle job to run and the wheelhouse to
    resolve here, an old pip stops the run before any job."""
    monkeypatch.setattr("spectramind.kaggle.tools.pip_version", lambda: "23.2.1")

    def workflow(*rules, conda=False):
        jobs = [SimpleNamespace(rule=SimpleNamespace(name=r)) for r in rules]
        methods = [SimpleNamespace(name="CONDA")] if conda else []
        deployment = SimpleNamespace(deployment_method=methods)
        return SimpleNamespace(dag=SimpleNamespace(needrun_jobs=lambda: jobs),
                               deployment_settings=deployment)  # fmt: skip

    with pytest.raises(ToolError, match="pip 23.2.1"):
        check_bundle_tools(workflow("fit", "kaggle_bundle"), {"wheelhouse_from": None})
    check_bundle_tools(workflow("fit", "predict"), {"wheelhouse_from": None})
    check_bundle_tools(workflow("kaggle_bundle"), {"wheelhouse_from": "/attached/wheelhouse"})
    check_bundle_tools(workflow("kaggle_bundle", conda=True), {})  # the job checks its own


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


def skip_or_fail(reason: str) -> None:
    """Skip a test this machine cannot run; under CI (CI=true) fail it instead."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI is set and the offline test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def find_python(version: str) -> str | None:
    """An interpreter of Python ``version`` (major.minor): this one, python3.X on the PATH,
    or pyenv's; None when there is none."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}"),
                  *sorted(map(str, pyenv.glob(f"{version}.*/bin/python{version}")))]  # fmt: skip
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)  # fmt: skip
        if probe.returncode == 0 and probe.stdout.split() == version.split("."):
            return python
    return None


# How each image is stood in for: a fresh venv of the image's Python holding its described
# packages at their versions and their dependencies as published before the image's date
# (pip's --uploaded-prior-to, from the index alone, as an image of that date would have
# them), except torch, which PyPI has for Linux only as a CUDA build (never installed here).
# For 2025's CUDA torch, torch 2.13.0 CPU (this machine's disk, PIP_FIND_LINKS): another
# version inside the supported range, which the image check notes. For the 2026 image
# (Python 3.12, for which no CPU torch lies here) a metadata-only torch at the described
# version: the physics predictor these runs use never imports it.
STAND_INS = {
    "kaggle-2025": ("2.13.0", "2025-07-15T00:00:00Z"),
    "kaggle-2026": (None, "2026-01-01T00:00:00Z"),
}


@dataclass
class StandIn:
    """A stand-in image being installed (``process``) into ``folder``."""

    name: str
    folder: Path
    description: ImageDescription
    process: subprocess.Popen | None

    @property
    def python(self) -> Path:
        return self.folder / "bin/python"


def start_stand_in(name: str, folder: Path) -> StandIn | str:
    """Start installing the stand-in of image ``name``; the reason when it cannot be."""
    description = read_description(image_file(name, REPO))
    python = find_python(description.python_version)
    if python is None:
        return f"no Python {description.python_version} here for the {name} stand-in"
    pip_help = subprocess.run([sys.executable, "-m", "pip", "install", "--help"],
                              capture_output=True, text=True, check=False).stdout  # fmt: skip
    if "--uploaded-prior-to" not in pip_help:
        return f"this venv's pip lacks --uploaded-prior-to (pip 26): {sys.executable} -m pip ..."
    torch, date = STAND_INS[name]
    packages = {n: v for n, v in description.packages.items() if n != "torch"}
    packages |= {"torch": torch} if torch else {}
    pins = " ".join(f"{n}=={v}" for n, v in sorted(packages.items()))
    script = (
        f'"{python}" -m venv "{folder}" && PIP_CONFIG_FILE=/dev/null "{sys.executable}" -m pip '
        f'--python "{folder}/bin/python" install --quiet --no-input --no-compile '
        f"--disable-pip-version-check --uploaded-prior-to {date} {pins}"
    )
    process = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    return StandIn(name, folder, description, process)


def ready(stand_ins: dict[str, StandIn | str] | str, name: str) -> StandIn:
    """The stand-in of image ``name`` once installed (the test skips, or fails under CI,
    where it cannot be)."""
    if isinstance(stand_ins, str):
        skip_or_fail(stand_ins)
    stand_in = stand_ins[name]
    if isinstance(stand_in, str):
        skip_or_fail(stand_in)
    if stand_in.process is not None:
        output, _ = stand_in.process.communicate(timeout=900)
        assert stand_in.process.returncode == 0, output[-3000:]
        stand_in.process = None
        if STAND_INS[name][0] is None:
            site = next(stand_in.folder.glob("lib/python3.*/site-packages"))
            write_stub(site, "torch", stand_in.description.packages["torch"])
    return stand_in


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    """The stand-ins of both images, installing in the background from the start (while
    the session's run and the bundles are built); the reason instead where the offline
    test cannot run (no user and mount namespaces)."""
    root = tmp_path_factory.mktemp("images")
    reason = missing_namespaces(root)
    if reason:
        yield reason
        return
    started = {name: start_stand_in(name, root / name) for name in STAND_INS}
    yield started
    for stand_in in started.values():
        if isinstance(stand_in, StandIn) and stand_in.process is not None:
            stand_in.process.kill()


def build_bundle_for(simulated_run: Path, workdir: Path, image: str | None = None) -> Path:
    """The bundle built by its rule from the session's simulated run (its raw root and
    artifacts, read as given) for ``image`` (None: the config's default), probing one job."""
    (workdir / "kaggle.yaml").write_text(
        "kaggle:\n  probe_jobs: 1\n" + (f"  image: {image}\n" if image else "")
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
def bundle(stand_ins, simulated_run, tmp_path_factory) -> Path:
    """The default bundle: for the default image (kaggle-2025.txt as it is). (The stand-ins
    start installing first, to overlap with the run and this build.)"""
    return build_bundle_for(simulated_run, tmp_path_factory.mktemp("bundle"))


def kaggle_tree(root: Path, simulated_run: Path, bundle: Path) -> Path:
    """/kaggle/input under ``root``: the competition's data with only the test planets, and
    the bundle; read-only."""
    raw = simulated_run / "results/raw"
    competition = root / "input/ariel-data-challenge-2025"
    competition.mkdir(parents=True)
    for name in TEST_ONLY:
        copy = shutil.copytree if (raw / name).is_dir() else shutil.copy2
        copy(raw / name, competition / name)
    shutil.copytree(bundle, root / "input/spectramind-v50")
    # A planet per job, not the profile's ten: the probe (one job) then leaves the second
    # of the two test planets for the guard to extrapolate to.
    profile = root / "input/spectramind-v50/profiles/kaggle/config.yaml"
    profile.write_text(profile.read_text().replace("planets_per_job=10", "planets_per_job=1"))
    subprocess.run(["chmod", "-R", "a-w", str(root / "input")], check=True)
    return root / "input"


@pytest.fixture(scope="module")
def kaggle_input(simulated_run, bundle, tmp_path_factory) -> Path:
    return kaggle_tree(tmp_path_factory.mktemp("kaggle"), simulated_run, bundle)


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
    assert config["kaggle"]["image"] == "kaggle-2025" == manifest["image"]["name"]
    assert (
        manifest["python_version"] == "3.11"
        and (bundle / "kaggle/images/kaggle-2025.txt").is_file()
    )
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
    wheelhouse = json.loads((bundle / WHEELHOUSE / "wheelhouse.json").read_text())
    assert wheelhouse["shipped"]["astropy"].startswith("7.")  # 8 needs numpy 2
    assert wheelhouse["lock"]["not_taken"]["astropy"]["lock"].startswith("8.")
    assert (
        wheelhouse["image"]["ranges"]["numpy"]
        and "scikit-learn" not in wheelhouse["image"]["ranges"]
    )
    assert manifest["wheels"] == len(wheels) and (bundle / "dataset-metadata.json").is_file()
    print(f"bundle {manifest['bundle_bytes'] / 1e6:.1f} MB, wheelhouse "
          f"{manifest['wheelhouse_bytes'] / 1e6:.1f} MB, {manifest['wheels']} wheels")  # fmt: skip


def freeze(python: Path) -> dict[str, str]:
    """pip freeze --all of an environment, by canonical name."""
    result = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True,
                            text=True, check=True)  # fmt: skip
    lines = (line.split("==") for line in result.stdout.splitlines() if "==" in line)
    return {canonical(name): version for name, version in lines}


def run_notebook(
    python: Path, kaggle_input: Path, replacing: bool = False
) -> tuple[subprocess.CompletedProcess, Path]:
    """The inference notebook's code cells, as Kaggle runs them, in the stand-in image
    ``python``: network cut, the input tree read-only, an empty current folder and HOME.
    Returns its result and working folder; checks nothing was written outside it, and
    (unless ``replacing``) that the install replaced none of the image's packages."""
    root = kaggle_input.parent
    working, home, cwd = root / "working", root / "home", root / "cwd"
    for folder in (working, home, cwd):
        folder.mkdir()
    notebook = nbformat.read(NOTEBOOKS["inference"], as_version=4)
    script = root / "inference.py"
    script.write_text("\n\n".join(c.source for c in notebook.cells if c.cell_type == "code"))
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # the image's: no tools of this machine's user
        "HOME": str(home), "OMP_NUM_THREADS": "1",
        "PIP_CONFIG_FILE": os.devnull,  # pip sees only the bundle: no index, no find-links
        "SPECTRAMIND_BUNDLE": str(kaggle_input / "spectramind-v50"),
        "SPECTRAMIND_COMPETITION": str(kaggle_input / "ariel-data-challenge-2025"),
        "SPECTRAMIND_WORKING": str(working),
    }  # fmt: skip
    before = snapshot(kaggle_input)
    start = time.perf_counter()
    result = subprocess.run(
        ["unshare", "-rnm", "sh", "-c", READ_ONLY, str(kaggle_input), str(python), str(script)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    print(f"offline notebook run {time.perf_counter() - start:.0f} s")
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert "--no-index --find-links" in result.stdout
    replaced = [line for line in result.stdout.splitlines() if "pip replaced" in line]
    assert replacing or not replaced, replaced
    assert snapshot(kaggle_input) == before
    assert not list(home.iterdir()) and not list(cwd.iterdir())
    return result, working


def submission_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).set_index("planet_id").sort_index()


def describe(python: Path) -> str:
    """describe-image run by ``python`` (stand-in image), as a user runs it on Kaggle
    before the install: the workflow's code on PYTHONPATH, nothing of it installed."""
    return subprocess.run(
        [str(python), "-m", "spectramind.kaggle", "describe-image", "--where", "stand-in"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def stand_in_2025(stand_ins, tmp_path_factory) -> tuple[StandIn, dict[str, str], Path]:
    """The 2025 image's stand-in once installed, its pip freeze before any bundle, and its
    description as describe-image writes it there (kaggle-2025.txt lists the packages the
    image is known by; this one also what they brought with them)."""
    image = ready(stand_ins, "kaggle-2025")
    description = tmp_path_factory.mktemp("described") / "kaggle-2025-stand-in.txt"
    description.write_text(describe(image.python))
    return image, freeze(image.python), description


@pytest.fixture(scope="module")
def bundle_2025(stand_in_2025, simulated_run, tmp_path_factory) -> Path:
    """The bundle for the 2025 image as describe-image read its stand-in (a path given as
    kaggle.image)."""
    _, _, description = stand_in_2025
    return build_bundle_for(simulated_run, tmp_path_factory.mktemp("bundle"), str(description))


def dry_run_install(python: Path, bundle: Path, scratch: Path) -> dict[str, str]:
    """What the bundle's offline install would install in the image ``python``, network
    cut (pip's dry-run report): name -> version."""
    report = scratch / "report.json"
    command = [str(python), "-m", *install_command(bundle), "--dry-run", "--quiet",
               "--report", str(report)]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": os.devnull}
    subprocess.run(["unshare", "-rn", *command], env=env, check=True, capture_output=True)
    items = json.loads(report.read_text())["install"]
    return {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


@pytest.mark.network
def test_offline_kaggle_inference_on_the_2025_image(
    stand_in_2025, bundle, bundle_2025, simulated_run, tmp_path_factory
):
    """The 2025 competition image (Python 3.11, numpy 1.26.4, scipy 1.15.3, pandas 2.2.3,
    matplotlib 3.7.2, pyarrow 19.0.1), stood in for: describe-image reads it back; the
    default bundle (kaggle-2025) would install on it leaving every described package as it
    is; the bundle for its full description installs replacing nothing, and the inference
    notebook runs on it offline (the image check, the runtime guard probing one planet, the
    workflow) to a valid submission.csv equal, planet for planet, to the pinned stack's
    (this venv's run of the same planets)."""
    image, before, description = stand_in_2025
    assert before["numpy"] == "1.26.4" and before["pandas"] == "2.2.3"
    assert not [name for name in before if name.startswith("nvidia")]  # a CPU torch
    read = read_description(description)
    listed = {n: v for n, v in image.description.packages.items() if n != "torch"}
    assert {n: read.packages.get(n) for n in listed} == listed  # the stand-in's torch aside
    assert read.packages["torch"] == before["torch"] and read.python_version == "3.11"
    assert read.packages["packaging"] == before["packaging"]  # what they need, read too
    # The default bundle: it keeps the described packages; pip would replace an undescribed
    # one whose version a shipped wheel rules out (the install says so).
    installs = dry_run_install(image.python, bundle, tmp_path_factory.mktemp("dry"))
    replaced = {n: (before[n], v) for n, v in installs.items() if n in before}
    assert not set(replaced) & set(image.description.packages), replaced
    print(f"the default bundle would replace {replaced or 'nothing'} on the stand-in")
    kaggle_input = kaggle_tree(tmp_path_factory.mktemp("kaggle"), simulated_run, bundle_2025)
    result, working = run_notebook(image.python, kaggle_input)
    after = freeze(image.python)
    assert {name: after.get(name) for name in before} == before  # nothing replaced
    assert "image check: image kaggle-2025-stand-in (Python 3.11.7," in result.stdout
    assert "as described" in result.stdout
    record = json.loads((working / "kaggle_run.json").read_text())
    assert record["status"] == "complete", record
    assert record["probe"]["planets"] == 1 and record["fitted_planets"] == 2
    assert "runtime guard: 1 planet(s)" in result.stdout and "running the rest" in result.stdout
    assert record["image"]["described"] == "kaggle-2025-stand-in" and record["image"]["pip"]
    assert record["image"]["packages"]["numpy"] == "1.26.4"
    assert record["image"]["packages"]["scipy"] == "1.15.3"
    assert "selective_scan" not in record  # the physics predictor has no V50
    competition = kaggle_input / "ariel-data-challenge-2025"
    assert "valid, 2 planets" in validated(working / "submission.csv", competition)
    ours = submission_frame(working / "submission.csv")
    pinned = submission_frame(simulated_run / "results/submission/submission.csv")
    assert ours.index.equals(pinned.index) and ours.columns.equals(pinned.columns)
    worst = float(np.max(np.abs(ours.to_numpy() / pinned.to_numpy() - 1.0)))
    print(f"2025 image vs the pinned stack: largest relative difference {worst:.2e}")
    np.testing.assert_allclose(ours.to_numpy(), pinned.to_numpy(), rtol=1e-5, atol=0.0)


@pytest.fixture(scope="module")
def bundle_2026(stand_ins, simulated_run, tmp_path_factory) -> Path:
    """The bundle for the newer image (kaggle-2026: Python 3.12, numpy 2.x)."""
    return build_bundle_for(simulated_run, tmp_path_factory.mktemp("bundle"), "kaggle-2026")


@pytest.mark.network
def test_offline_kaggle_inference_on_a_newer_image(stand_ins, bundle_2026, simulated_run,
                                                   tmp_path_factory):  # fmt: skip
    """The inference notebook on a stand-in of the newer image (Python 3.12, numpy 2.0.2):
    its bundle (for kaggle-2026.txt as it is) installs offline, leaving the described
    packages as they are, and the notebook writes a valid submission."""
    image = ready(stand_ins, "kaggle-2026")
    before = freeze(image.python)
    assert before["numpy"].startswith("2.")
    manifest = json.loads((bundle_2026 / "wheelhouse/wheelhouse.json").read_text())
    assert manifest["python_version"] == "3.12" and manifest["image"]["name"] == "kaggle-2026"
    kaggle_input = kaggle_tree(tmp_path_factory.mktemp("kaggle"), simulated_run, bundle_2026)
    result, working = run_notebook(image.python, kaggle_input, replacing=True)
    after = freeze(image.python)
    described = image.description.packages
    assert {n: after.get(n) for n in before if n in described} == {
        n: v for n, v in before.items() if n in described
    }  # pip may replace an undescribed package (the install names it), never a described one
    replaced = [line for line in result.stdout.splitlines() if "pip replaced" in line]
    print(f"on the 2026 stand-in: {replaced or 'nothing replaced'}")
    record = json.loads((working / "kaggle_run.json").read_text())
    assert record["status"] == "complete", record
    assert record["image"]["packages"]["numpy"] == "2.0.2"
    competition = kaggle_input / "ariel-data-challenge-2025"
    assert "valid, 2 planets" in validated(working / "submission.csv", competition)
    ours = submission_frame(working / "submission.csv")
    pinned = submission_frame(simulated_run / "results/submission/submission.csv")
    worst = float(np.max(np.abs(ours.to_numpy() / pinned.to_numpy() - 1.0)))
    print(f"2026 image vs the pinned stack: largest relative difference {worst:.2e}")


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
def test_wheelhouse_is_reused_only_for_the_image_it_was_built_for(bundle, tmp_path):
    pyproject = bundle / "pyproject.toml"
    image = read_description(image_file("kaggle-2025", bundle))  # the bundle's copy
    manifest = copy_wheelhouse(bundle / WHEELHOUSE, tmp_path / "copy", image, pyproject)
    assert sorted(manifest["wheels"]) == sorted(p.name for p in (tmp_path / "copy").glob("*.whl"))
    other = read_description(image_file("kaggle-2026", REPO))
    with pytest.raises(WheelhouseError, match="python_version, image packages.*network"):
        copy_wheelhouse(bundle / WHEELHOUSE, tmp_path / "other", other, pyproject)
