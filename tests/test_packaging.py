"""Static checks of what users install: pinned pyproject, conda envs agreeing with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for requirement in requirements:
        name, _, pinned = requirement.partition("==")
        assert pinned, f"pyproject.toml: {requirement!r} is not pinned with =="
        pins[name.lower()] = pinned
    return pins


# Import name (or, for an engine picked by name, the text that selects it) of each runtime pin.
USED_AS = {
    "numpy": "import numpy",
    "scipy": "from scipy",
    "pandas": "import pandas",
    "pyarrow": "import pyarrow",
    "astropy": "from astropy",
    "xarray": "import xarray",
    "netcdf4": 'engine="netcdf4"',
    "numba": "from numba",
    "batman-package": "import batman",
    "snakemake": "from snakemake",
}


def test_every_runtime_dependency_is_used_by_the_workflow():
    """A pin nobody imports costs every user an install (torch did, before the model)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = [r.partition("==")[0].lower() for r in project["dependencies"]]
    sources = [*REPO.glob("spectramind/**/*.py"), *REPO.glob("scripts/*.py"),
               *REPO.glob("rules/*.smk"), REPO / "Snakefile"]  # fmt: skip
    text = "\n".join(path.read_text() for path in sources)
    unused = [name for name in names if USED_AS.get(name, f"import {name}") not in text]
    assert not unused, f"pyproject.toml pins packages no workflow code uses: {unused}"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_conda_env_is_pinned_and_agrees_with_pyproject(env_file):
    env = yaml.safe_load(env_file.read_text())
    assert env["channels"][0] == "conda-forge"
    pins = pyproject_pins()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    for dependency in conda:
        name, _, pinned = dependency.partition("=")
        assert pinned, f"{env_file.name}: {dependency!r} is not pinned"
        if name.lower() in pins:
            assert pinned == pins[name.lower()], f"{env_file.name}: {name} {pinned} != pyproject"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--editable=.." in pip  # the rules import the spectramind package itself


def test_every_rule_names_an_existing_conda_env_and_a_log():
    for smk in (REPO / "rules").glob("*.smk"):
        text = smk.read_text()
        rules = re.findall(r"^rule (\w+):", text, flags=re.M)
        envs = re.findall(r'conda:\s*\n\s*"\.\./(envs/[\w.]+)"', text)
        logs = re.findall(r"^    log:", text, flags=re.M)
        assert len(envs) == len(rules), f"{smk.name}: a rule without conda:"
        assert len(logs) == len(rules), f"{smk.name}: a rule without log:"
        for env in envs:
            assert (REPO / env).is_file(), f"{smk.name}: {env} does not exist"


def test_slurm_profile_avoids_the_known_hangs():
    """squeue status (sacct hangs without slurmdbd) and a CPU cap for grouped planet jobs."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue"
    assert isinstance(profile["cores"], int)
    assert "simulate_planet=planet" in profile["groups"]


def test_kaggle_profile_reads_the_competition_root():
    profile = yaml.safe_load((REPO / "profiles/kaggle/config.yaml").read_text())
    assert "raw_dir=/kaggle/input/ariel-data-challenge-2025" in profile["config"]
