"""Static checks of what users install and run, each comparing two independent sources:
pyproject's ranges vs the code using them and vs the pins of the lock and of the oldest stack,
the per-planet rules vs the SLURM groups, the profiles vs Snakemake's own option parser (the
conda envs: tests/test_envs.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
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
    "setuptools": "import batman",  # batman imports distutils: setuptools has it on 3.12+
}


def test_every_runtime_dependency_is_used_by_the_workflow():
    """A dependency nobody imports costs every user an install (torch did, before the model)."""
    names = [canonicalize_name(r.name) for r in project_requirements("dependencies")]
    sources = [*REPO.glob("spectramind/**/*.py"), *REPO.glob("scripts/*.py"),
               *REPO.glob("rules/*.smk"), REPO / "Snakefile"]  # fmt: skip
    text = "\n".join(path.read_text() for path in sources)
    unused = [name for name in names if USED_AS.get(name, f"import {name}") not in text]
    assert not unused, f"pyproject.toml requires packages no workflow code uses: {unused}"


# ---------------------------------------------------- supported ranges, the lock, the oldest

# What make install installs with (-c): every distribution of the tested dev+model install.
LOCK = REPO / "requirements/lock.txt"
# The oldest supported stack (make test-oldest): pyproject's lower bounds, as == pins.
OLDEST = REPO / "requirements/oldest.txt"
# Lower bounds no install here can exercise: only torch 2.13.0 (CPU) is on this machine's
# disk (PyPI's Linux torch is a CUDA build of several GB), so the oldest stack runs it too.
UNTESTED_LOWER_BOUNDS = {"torch"}


def project_requirements(*groups: str) -> list[Requirement]:
    """The requirements of pyproject's dependencies (group "dependencies") or extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [
        Requirement(r) for g in groups for r in (project[g] if g == "dependencies" else extras[g])
    ]


def applies_here(requirement: Requirement) -> bool:
    """Whether a requirement's environment marker holds for this Python (the lock and the
    oldest stack are for Python 3.11)."""
    return requirement.marker is None or requirement.marker.evaluate()


def pins(path: Path) -> dict[str, str]:
    """A requirements file's name==version lines, by normalised name (comments skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        if requirement := line.partition("#")[0].strip():
            name, pinned, version = requirement.partition("==")
            assert pinned and re.fullmatch(r"[\w.]+", version), f"{path.name}: {line!r}"
            assert canonicalize_name(name) not in found, f"{path.name}: {name} twice"
            found[canonicalize_name(name)] = version
    return found


def lower_bound(requirement: Requirement) -> str:
    (bound,) = [s.version for s in requirement.specifier if s.operator == ">="]
    return bound


@pytest.mark.parametrize("group", ["dependencies", "model", "dev", "gpu"])
def test_pyproject_declares_ranges_with_a_lower_bound_and_no_pins(group):
    """Ranges, so that an existing environment (a Kaggle image) keeps its own versions: a
    lower bound each, and no exact pin (those are the lock's)."""
    for requirement in project_requirements(group):
        operators = {s.operator for s in requirement.specifier}
        assert ">=" in operators, f"{requirement}: no lower bound"
        assert not operators & {"==", "===", "~="}, f"{requirement}: a pin (the lock's job)"


def test_the_lock_pins_every_requirement_within_its_range():
    """make install's constraints: every runtime, model and dev requirement pinned, inside
    pyproject's range (the gpu extra needs CUDA: not in the lock)."""
    locked = pins(LOCK)
    for requirement in filter(applies_here, project_requirements("dependencies", "model", "dev")):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{LOCK.name} pins no {name}"
        assert requirement.specifier.contains(locked[name]), (
            f"{name}=={locked[name]}: {requirement}"
        )
    assert "spectramind" not in locked


def test_the_oldest_stack_pins_each_lower_bound():
    """requirements/oldest.txt pins every runtime and model requirement at pyproject's lower
    bound (so make test-oldest tests the bounds as declared), Kaggle's 2025 image among them."""
    oldest = pins(OLDEST)
    for requirement in filter(applies_here, project_requirements("dependencies", "model")):
        name = canonicalize_name(requirement.name)
        assert name in oldest, f"{OLDEST.name} pins no {name}"
        assert requirement.specifier.contains(oldest[name]), f"{name}=={oldest[name]}"
        if name not in UNTESTED_LOWER_BOUNDS:
            assert oldest[name] == lower_bound(requirement), (
                f"{name}=={oldest[name]}: {requirement}"
            )
    kaggle_2025 = {"numpy": "1.26.4", "scipy": "1.15.3", "pandas": "2.2.3",
                   "matplotlib": "3.7.2", "pyarrow": "19.0.1"}  # fmt: skip
    assert {name: oldest[name] for name in kaggle_2025} == kaggle_2025


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
