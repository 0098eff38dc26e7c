"""The physics path without torch: where torch and the model's other packages cannot be
imported, every module the physics-only workflow's scripts import still imports, and the
workflow itself reaches a valid submission and its score."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from workflow_runs import REPO, VALIDATE, job_counts, parsed_rules, snakemake

# The optional extra ``model`` (and mamba_ssm, the extra ``gpu``): what the physics path
# must do without.
BLOCKED = ("torch", "torch_geometric", "mambapy", "mamba_ssm", "tqdm")
# The smallest physics-only run that still reaches the submission and its score (the default
# predictor, auto, is the physics fit where torch is missing): four train
# planets are the fewest its validation predictions (the spectral prior cross-fitted, for
# sigma calibration) can be made with; one test planet, one visit each, sparse frames; a
# calibrate, extract and fit job per split (start-ups, not frames, are most of their time);
# no limb-darkening or white-light prior (their jobs' imports are checked without a run).
PHYSICS_CONFIG = """\
planets_per_job: 4
simulation:
  n_train: 4
  n_test: 1
  cadence: 200
  second_visit_fraction: 0.0
fit:
  limb_darkening_prior: false
  white_light_error_scale: false
"""
TARGETS = ("results/submission/submission.zip", "results/diagnostics/score.json")
# Every interpreter started with the blocker's folder on PYTHONPATH imports it at start-up
# (site imports sitecustomize): it makes the blocked packages unimportable, as if absent,
# and appends the program that interpreter runs (sys.argv[0]) to active.txt beside it.
SITECUSTOMIZE = """\
import sys
from importlib.abc import MetaPathFinder
from pathlib import Path

BLOCKED = {blocked!r}


class Blocker(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
with open(Path(__file__).with_name("active.txt"), "a") as marker:
    marker.write(sys.argv[0] + "\\n")
"""
# Run with the blocker active: the import statements of each script (JSON {script: source})
# executed; prints the errors by script and the blocked modules that got imported anyway.
IMPORT_SCRIPTS = """\
import json, sys
errors = {}
for script, source in json.loads(sys.argv[1]).items():
    try:
        exec(source, {})
    except ImportError as err:
        errors[script] = repr(err)
try:
    import torch
except ModuleNotFoundError:
    pass
else:
    errors["<blocker>"] = "import torch worked"
imported = sorted(m for m in sys.modules if m.partition(".")[0] in json.loads(sys.argv[2]))
print(json.dumps({"errors": errors, "imported": imported}))
"""
# Run with the blocker active: each sigma-calibration method fitted on 20 validation planets,
# saved and loaded (a relational artifact, which cannot be fitted here, as a stand-in);
# prints "ok" by method, or for relational the errors of fitting and loading.
SIGMA_METHODS = """\
import json, sys
from pathlib import Path
import numpy as np
from spectramind.uncertainty import (
    METHODS, SigmaCalibrationOptions, fit_sigma_calibration, load_sigma_calibration,
    save_sigma_calibration,
)
rng = np.random.default_rng(0)
truth = 0.01 + 1e-3 * rng.normal(size=(20, 283))
sigma = np.full((20, 283), 1e-3)
mu = truth + sigma * rng.normal(size=(20, 283))
wavelength = np.r_[0.7, np.linspace(1.95, 3.9, 282)]
outcomes = {}
for method in METHODS:
    path = Path(sys.argv[1]) / f"{method}.json"
    try:
        options = SigmaCalibrationOptions(method=method)
        save_sigma_calibration(path, fit_sigma_calibration(options, truth, mu, sigma,
                                                           wavelength, (0.01, 2e-3)))
        load_sigma_calibration(path).apply(mu, sigma)
        outcomes[method] = "ok"
    except ImportError as err:
        path.write_text(json.dumps({"method": method, "shrinkage": 1.0, "validation": {},
                                    "state": {}}))
        try:
            load_sigma_calibration(path)
        except ImportError as load_err:
            outcomes[method] = [str(err), str(load_err)]
print(json.dumps(outcomes))
"""


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A folder whose sitecustomize blocks BLOCKED in every interpreter that has it on
    PYTHONPATH (before the inherited entries)."""
    folder = tmp_path / "blocker"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(blocked=BLOCKED))
    return folder


def blocked_env(blocker: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(blocker), os.environ.get("PYTHONPATH")])
    )}  # fmt: skip


def planned_rules(workdir: Path, check_raw: bool) -> set[str]:
    """The rules a dry run of the default workflow with the physics predictor plans (its
    job-stats table)."""
    workdir.mkdir()
    result = snakemake(workdir, "-n", "--quiet", "rules", "--config", "predictor=physics",
                       f"check_raw={check_raw}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return set(job_counts(result))


def physics_scripts(tmp_path: Path) -> set[Path]:
    """The scripts of every rule the physics-only workflow plans, with and without the raw
    check (its checkpoint hides what comes after it from a dry run), planned side by side
    with Snakemake's parse of the rules."""
    with ThreadPoolExecutor(3) as pool:
        parsed = pool.submit(parsed_rules)
        plans = pool.map(lambda check: planned_rules(tmp_path / str(check), check), (False, True))
        planned = set().union(*plans)
        rules = {rule.name: rule for rule in parsed.result() if rule.name in planned}
    assert set(rules) == planned
    running = {name: rule.code for name, rule in rules.items() if rule.code}
    assert all(code == {"script"} for code in running.values()), running
    return {rules[name].script for name in running}


def imports_of(script: Path) -> str:
    """Every import statement of a script, as source."""
    tree = ast.parse(script.read_text())
    nodes = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(node) for node in nodes)


def test_the_physics_path_imports_nothing_of_the_model(blocker, tmp_path):
    scripts = physics_scripts(tmp_path)
    assert {"physics_validation.py", "calibrate_sigma.py"} <= {path.name for path in scripts}
    sources = json.dumps({path.name: imports_of(path) for path in sorted(scripts)})
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPTS, sources, json.dumps(BLOCKED)],
        env=blocked_env(blocker), cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == {"errors": {}, "imported": []}
    assert (blocker / "active.txt").read_text().startswith("-c")


def test_sigma_calibration_without_torch_all_methods_but_relational(blocker, tmp_path):
    """Every method fits, saves and loads without torch; relational, a graph network, says
    which package it lacks, when fitted and when its artifact is loaded."""
    result = subprocess.run(
        [sys.executable, "-c", SIGMA_METHODS, str(tmp_path)], env=blocked_env(blocker),
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = json.loads(result.stdout)
    relational = outcomes.pop("relational")
    assert set(outcomes.values()) == {"ok"}, outcomes
    for error in relational:
        assert "sigma_calibration.method 'relational' needs the package 'torch'" in error


def test_the_physics_workflow_runs_without_torch(blocker, tmp_path, monkeypatch):
    """Snakemake, every job and the validator run with the blocker (PYTHONPATH is inherited,
    rules/plan.smk only prepends the checkout); predictor auto, the default, is the physics
    fit there."""
    monkeypatch.setenv("PYTHONPATH", blocked_env(blocker)["PYTHONPATH"])
    (tmp_path / "physics.yaml").write_text(PHYSICS_CONFIG)
    start = time.perf_counter()
    result = snakemake(tmp_path, *TARGETS, "--cores", "2", "--configfile",
                       str(tmp_path / "physics.yaml"))  # fmt: skip
    print(f"physics-only workflow without torch: {time.perf_counter() - start:.1f} s")
    assert result.returncode == 0, result.stderr[-3000:]
    submission = tmp_path / TARGETS[0]
    checked = subprocess.run([VALIDATE, str(submission)], capture_output=True, text=True,
                             check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads((tmp_path / TARGETS[1]).read_text())["predictor"] == "physics_fit"
    # The blocker was active in every job: each started one interpreter on its script.
    started = (blocker / "active.txt").read_text().splitlines()
    scripts = [line for line in started if "/.snakemake/scripts/" in line]
    jobs = int(re.search(r"(\d+) of \1 steps \(100%\) done", result.stderr)[1])
    assert len(scripts) == jobs, started
    assert any(line.endswith(".physics_validation.py") for line in scripts)
