"""Static checks of what users install and run, each comparing two independent sources:
pyproject pins vs the conda envs, the code each rule runs vs the env it runs in, the
per-planet rules vs the SLURM groups, the profiles vs Snakemake's own option parser."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


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


def conda_packages(env_file: Path) -> dict[str, str]:
    env = yaml.safe_load(env_file.read_text())
    packages = {}
    for dependency in env["dependencies"]:
        if isinstance(dependency, str):
            name, _, pinned = dependency.partition("=")
            packages[name.lower()] = pinned
    return packages


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_conda_env_is_pinned_and_agrees_with_pyproject(env_file):
    pins = pyproject_pins()
    for name, pinned in conda_packages(env_file).items():
        assert pinned, f"{env_file.name}: {name} is not pinned"
        if name in pins:
            assert pinned == pins[name], f"{env_file.name}: {name} {pinned} != pyproject"


# ---------------------------------------------------------------- rules vs their conda envs

# Conda name of an import whose package is named otherwise.
CONDA_NAME = {
    "batman": "batman-package",
    "yaml": "pyyaml",
    "torch": "pytorch",
    "torch_geometric": "pytorch_geometric",
}
# Snakemake puts itself on the path of the scripts it runs; everything else comes from the env.
PROVIDED = {"snakemake", "__future__"}
# Imported only where present (try/except ImportError): mamba-ssm needs CUDA, the CPU path
# has the same parameters (spectramind.models.mamba).
OPTIONAL = {"mamba_ssm"}


def rule_blocks(smk: Path) -> dict[str, str]:
    """Text of each rule (or checkpoint) of a rules file, by name."""
    parts = re.split(r"^(?:rule|checkpoint) (\w+):", smk.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _rules() -> list[tuple[str, str, str]]:
    """(rule, env file, script) of every rule with a conda env and a script."""
    found = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for name, block in rule_blocks(smk).items():
            env = re.search(r'conda:\s*\n\s*"\.\./(envs/[\w.]+)"', block)
            script = re.search(r'script:\s*\n\s*"\.\./(scripts/[\w.]+)"', block)
            if env and script:
                found.append((name, env.group(1), script.group(1)))
    return found


def _module_file(name: str) -> Path | None:
    path = REPO.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def third_party_imports(script: Path) -> set[str]:
    """Top-level third-party modules a script needs: its own imports and those of every
    spectramind module (and parent package) it loads, followed transitively, function-level
    imports included; an xarray netCDF4 engine counts as importing netCDF4."""
    seen, todo, needed = set(), [script], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        text = path.read_text()
        if 'engine="netcdf4"' in text:
            needed.add("netCDF4")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "spectramind":
                    modules = (_module_file(".".join(parts[:k])) for k in range(1, len(parts) + 1))
                    todo += [module for module in modules if module]
                elif parts[0] not in sys.stdlib_module_names | PROVIDED | OPTIONAL:
                    needed.add(parts[0])
    return needed


@pytest.mark.parametrize(
    "rule, env, script",
    [pytest.param(*r, id=r[0]) for r in _rules()],
)
def test_each_rule_env_provides_what_its_script_imports(rule, env, script):
    """A rule runs its script in its own conda env, not in the dev venv the other tests use:
    a package the script (or the library code it loads) imports must be in that env."""
    packages = conda_packages(REPO / env)
    needed = third_party_imports(REPO / script)
    missing = sorted(n for n in needed if CONDA_NAME.get(n, n).lower() not in packages)
    assert not missing, f"rule {rule}: {env} lacks {missing}, imported by {script}"
    if "spectramind" in (REPO / script).read_text():
        pip = next(d["pip"] for d in yaml.safe_load((REPO / env).read_text())["dependencies"]
                   if isinstance(d, dict))  # fmt: skip
        assert "--editable=.." in pip, f"rule {rule}: {env} does not install spectramind"


def test_every_rule_names_an_existing_conda_env_and_a_log():
    for smk in (REPO / "rules").glob("*.smk"):
        text = smk.read_text()
        rules = list(rule_blocks(smk))
        envs = re.findall(r'conda:\s*\n\s*"\.\./(envs/[\w.]+)"', text)
        logs = re.findall(r"^    log:", text, flags=re.M)
        assert len(envs) == len(rules), f"{smk.name}: a rule without conda:"
        assert len(logs) == len(rules), f"{smk.name}: a rule without log:"
        for env in envs:
            assert (REPO / env).is_file(), f"{smk.name}: {env} does not exist"


# ----------------------------------------------------------------------- execution profiles


def test_slurm_groups_name_exactly_the_per_planet_rules():
    """Every rule with a {planet_id} output runs in the per-planet group job (one SLURM job
    per planet costs ~3 s of Snakemake start-up each), and no group names a missing rule
    (Snakemake ignores those silently)."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    grouped = dict(entry.split("=") for entry in profile["groups"])
    per_planet = set()
    for smk in (REPO / "rules").glob("*.smk"):
        for name, block in rule_blocks(smk).items():
            output = block.split("output:", 1)[-1].split("log:", 1)[0]
            if "output:" in block and "{planet_id}" in output:
                per_planet.add(name)
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
