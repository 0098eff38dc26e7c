"""Static checks of what users install and run, each comparing two independent sources:
pyproject pins vs the code using them, the per-planet rules vs the SLURM groups, the
profiles vs Snakemake's own option parser (the conda envs: tests/test_envs.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from workflow_runs import parsed_rules

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


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


def test_every_rule_has_a_log():
    """Every rule of Snakemake's parse logs to a file, the generated ones (rules/planets.smk:
    each stage's wildcard rule and batch rules) too, but for those only gathering inputs
    (all, inference), which run nothing."""
    rules = parsed_rules()
    assert any(re.fullmatch(r"fit_train_batch_\d+", rule.name) for rule in rules)
    unlogged = [r.name for r in rules if not r.log and r.directives - {"input", "default_target"}]
    assert not unlogged, f"rules without log: {unlogged}"


# ----------------------------------------------------------------------- execution profiles


def test_slurm_groups_name_exactly_the_per_planet_rules():
    """Every rule with a {planet_id} output runs in the per-planet group job (one SLURM job
    per planet costs ~3 s of Snakemake start-up each), and no group names a missing rule
    (Snakemake ignores those silently)."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    grouped = dict(entry.split("=") for entry in profile["groups"])
    # (batch rules have no wildcards: a batch of planets is a job already)
    per_planet = {rule.name for rule in parsed_rules() if "planet_id" in rule.wildcards}
    assert per_planet and set(grouped) == per_planet
    components = dict(entry.split("=") for entry in profile["group-components"])
    assert set(grouped.values()) <= set(components)
    # sacct needs slurmdbd, which many small clusters lack: status checks would hang.
    assert profile["slurm-status-command"] == "squeue"


def test_kaggle_profile_config_passes_the_schema():
    """The profile's --config overrides are keys the schema knows, with valid values."""
    from snakemake.utils import validate

    profile = yaml.safe_load((REPO / "profiles/kaggle/config.yaml").read_text())
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for entry in profile["config"]:
        key, _, value = entry.partition("=")
        assert key in config, f"profiles/kaggle: unknown config key {key}"
        config[key] = yaml.safe_load(value)
    validate(config, str(REPO / "config/schema.yaml"))


@pytest.mark.parametrize("profile", ["local", "slurm", "kaggle"])
def test_snakemake_accepts_the_profile(profile, small_root, tmp_path):
    """A dry run with the profile: Snakemake rejects unknown or mistyped profile keys (the
    SLURM ones need the executor plugin from the dev extras). Kaggle's raw_dir is replaced
    by the session's simulated root, which exists here."""
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
               "--profile", str(REPO / "profiles" / profile), "--dry-run"]  # fmt: skip
    if profile == "kaggle":
        command += ["--config", f"raw_dir={small_root}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "This was a dry-run" in result.stdout + result.stderr
