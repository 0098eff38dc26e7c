"""The per-rule conda envs (envs/*.yaml). Static: every rule that runs code names one; each
lists exactly the third-party packages its rules' scripts import (followed through the
library), pinned to requirements/lock.txt's versions (the tested ones; pyproject.toml declares
ranges), and never the project itself (jobs import it
from the checkout: rules/plan.smk puts the workflow's folder on PYTHONPATH). Built: conda
channels are unreachable here, so each env's packages are pip-installed by their PyPI names
into a fresh venv, where what its scripts import must import, the library from the checkout.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.utils import canonicalize_name as canonical
from workflow_runs import REPO, ParsedRule, parsed_rules

import spectramind
from spectramind.core.provenance import package_versions
from spectramind.workflow import PLANET_STAGES

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
# Packages a job needs without any import naming them: xarray reads and writes the .nc files
# through its netCDF4 engine (spectramind.core.netcdf writes with engine="netcdf4"; the
# files are NETCDF4/HDF5, which xarray's scipy engine cannot read).
NEEDED_WITH = {"xarray": {"netcdf4"}}
# What every env's interpreter brings: conda-forge's python depends on pip, as a venv has it
# (the Kaggle bundle's code reads pip's vendored packaging where nothing else is installed).
INTERPRETER_BRINGS = {"pip"}
# Heavy packages an env must not be able to import unless it lists them (pip installs an
# env's listed packages and their dependencies, none of which needs these).
HEAVY = {"torch": "torch", "torch-geometric": "torch_geometric", "matplotlib": "matplotlib",
         "numba": "numba", "astropy": "astropy", "batman-package": "batman"}  # fmt: skip


LOCK = REPO / "requirements" / "lock.txt"


@cache
def lock_pins() -> dict[str, str]:
    """Every pin of requirements/lock.txt (the tested dev+model install), by normalised name."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        if requirement := line.partition("#")[0].strip():
            name, pinned, version = requirement.partition("==")
            assert pinned and re.fullmatch(r"[\w.]+", version), f"{LOCK}: {line!r}"
            pins[canonical(name)] = version
    return pins


# ------------------------------------------------------------------------------- env files

ENV_LINE = re.compile(r"^\s*-\s*([A-Za-z0-9][\w.-]*)=(\S+)\s*(?:#\s*PyPI:\s*([\w.-]+))?")


@dataclass(frozen=True)
class Package:
    conda: str  # name on conda-forge
    version: str  # as pinned in the env
    pypi: str  # normalised PyPI name: the conda name unless a "# PyPI: <name>" comment says


def env_packages(env_file: Path) -> list[Package]:
    """The env's packages other than python, with the PyPI name each line's comment gives
    where conda-forge names it otherwise (pytorch: torch, astropy-base: astropy)."""
    packages = []
    for line in env_file.read_text().splitlines():
        if (match := ENV_LINE.match(line)) and match[1] != "python":
            packages.append(Package(match[1], match[2], canonical(match[3] or match[1])))
    return packages


def pip_requirements(env_file: Path) -> list[str]:
    """The env's packages as pip requirements, pinned as the lock pins them."""
    return sorted(f"{p.pypi}=={lock_pins()[p.pypi]}" for p in env_packages(env_file))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_is_pinned_exactly_as_the_lock_and_installs_no_project(env_file):
    text = env_file.read_text()
    env = yaml.safe_load(text)
    assert env["channels"] == ["conda-forge", "nodefaults"], env_file.name
    dependencies = env["dependencies"]
    # No pip section: an editable or relative install resolves against Snakemake's copy of
    # the env file under .snakemake/conda/, not the repository, and pulls every dependency.
    assert all(isinstance(d, str) for d in dependencies), f"{env_file.name}: a pip section"
    for marker in ("--editable", "-e ", "pip:", "../", "./", "file:", "git+", ".whl"):
        assert marker not in text, f"{env_file.name} contains {marker!r}"
    assert "python=3.11" in dependencies, f"{env_file.name}: python=3.11 not pinned"
    packages = env_packages(env_file)
    assert len(packages) == len(dependencies) - 1, f"{env_file.name}: an unparsed dependency"
    pins = lock_pins()
    for package in packages:
        where = f"{env_file.name}: {package.conda}={package.version}"
        assert re.fullmatch(r"\d+(\.\d+)+", package.version), f"{where} is not an exact pin"
        assert package.pypi in pins, (
            f"{where}: requirements/lock.txt pins no {package.pypi} (a conda name differing "
            "from PyPI's needs a '# PyPI: <name>' comment)"
        )
        pinned = pins[package.pypi]
        # conda-forge builds a release, not PyPI's wheel re-uploads (1.7.5.1.post1); conda's
        # "=1.7.5.1" matches the release and any .postN of it.
        release = re.sub(r"\.post\d+$", "", pinned)
        assert package.version in (pinned, release), f"{where}, the lock has {pinned}"
        assert package.pypi != "spectramind", f"{where}: jobs import it from the checkout"


# ----------------------------------------------------------------------------- the rules

# Snakemake's own parse of the workflow (workflow_runs.parsed_rules): the rules written in the
# Snakefile and rules/*.smk and those rules/planets.smk generates, each per-planet stage's
# wildcard rule and its batch rules (the parse's config has planets_per_job: 2).


def test_the_rules_checked_include_each_stages_batch_rules():
    """The checks below see the generated rules too: each per-planet stage's wildcard rule
    and, for each split, batch rules named <stage>_<split>_batch_<first planet id>."""
    names = [rule.name for rule in parsed_rules()]
    assert len(names) == len(set(names)), names
    for stage in PLANET_STAGES:
        assert stage in names, f"no rule {stage}"
        for split in ("train", "test"):
            batches = [n for n in names if re.fullmatch(rf"{stage}_{split}_batch_\d+", n)]
            assert batches, f"no batch rule of {stage} for {split}: {names}"


def rules_running_code() -> list[ParsedRule]:
    return [rule for rule in parsed_rules() if rule.code]


def test_every_rule_running_code_has_an_env_and_no_env_is_unused():
    rules = rules_running_code()
    assert rules
    for rule in rules:
        # all but run: obey conda: (run: runs in Snakemake itself)
        assert "run" not in rule.code, f"rule {rule.name}: run: ignores conda:"
        env = rule.conda
        assert env, f"rule {rule.name} runs code without a conda: env"
        assert env.parent == REPO / "envs" and env.is_file(), f"rule {rule.name}: {env}"
    # Rules without code (all, inference) only gather inputs and run nothing.
    exempt = [rule for rule in parsed_rules() if rule not in rules]
    assert all(r.directives <= {"input", "default_target"} for r in exempt), exempt
    used = {rule.conda for rule in rules}
    assert used == set(ENV_FILES), f"env files no rule uses: {set(ENV_FILES) - used}"


def rules_of(env_file: Path) -> list[ParsedRule]:
    return [rule for rule in rules_running_code() if rule.conda == env_file]


# ---------------------------------------------------------------------- what scripts import


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(
        isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names
    )


class _Imports(ast.NodeVisitor):
    """Import statements anywhere in a module (function-level ones too), as (module, names)
    with relative imports resolved; except those only tried (inside ``try`` with an
    ``except ImportError``: mamba_ssm, used where CUDA has it) or only for type checkers."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.found: list[tuple[str, tuple[str, ...]]] = []

    def visit_Try(self, node: ast.Try) -> None:
        if any(_catches_import_error(h) for h in node.handlers):
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name, ()) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            module = ".".join([*base, *filter(None, [node.module])])
        self.found.append((module, tuple(alias.name for alias in node.names)))


def imports_of(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    parts = path.relative_to(REPO).with_suffix("").parts
    package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
    visitor = _Imports(package.removesuffix(".__init__"))
    visitor.visit(ast.parse(path.read_text()))
    return visitor.found


def _module_file(module: str) -> Path | None:
    path = REPO.joinpath(*module.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


@cache
def third_party_imports(script: Path) -> frozenset[str]:
    """Top-level third-party modules a script needs: its own imports and those of every
    spectramind module (and parent package) it loads, followed transitively."""
    needed, seen, todo = set(), set(), [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module, names in imports_of(path):
            top = module.split(".")[0]
            if top == "spectramind":
                parts = module.split(".")
                candidates = [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
                candidates += [f"{module}.{name}" for name in names]  # modules of a package
                todo += filter(None, map(_module_file, candidates))
            elif top not in sys.stdlib_module_names:
                needed.add(top)
    return frozenset(needed)


_distributions = cache(packages_distributions)


@cache
def distribution_of(module: str) -> str:
    """The normalised PyPI name of the distribution providing a top-level module (read from
    this venv, which installs every extra)."""
    found = _distributions().get(module, [])
    assert len(found) == 1, f"{module}: provided by {found or 'nothing installed here'}"
    return canonical(found[0])


def needed_packages(env_file: Path) -> dict[str, set[str]]:
    """PyPI name -> rules needing it, over every rule running in the env."""
    needed: dict[str, set[str]] = {}
    for rule in rules_of(env_file):
        for module in third_party_imports(rule.script):
            dist = distribution_of(module)
            if dist in INTERPRETER_BRINGS:
                continue
            for package in {dist} | NEEDED_WITH.get(dist, set()):
                needed.setdefault(package, set()).add(rule.name)
    return needed


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_lists_exactly_what_its_rules_import(env_file):
    rules = rules_of(env_file)
    assert all(rule.script for rule in rules), "import check needs script:"
    needed = needed_packages(env_file)
    listed = {package.pypi for package in env_packages(env_file)}
    missing = {package: sorted(needed[package]) for package in sorted(set(needed) - listed)}
    assert not missing, f"{env_file.name} lacks packages its rules import: {missing}"
    # The point of per-rule envs: only rules importing torch get it (and the rest no less lean).
    if "torch" in listed:
        assert "torch" in needed, f"{env_file.name} pulls torch, which none of its rules imports"
    unused = sorted(listed - set(needed))
    assert not unused, f"{env_file.name} lists what none of its rules imports: {unused}"


def test_manifest_records_the_library_that_ran_not_an_installed_copy():
    """In a rule's env spectramind is no installed distribution: its version comes from the
    imported code (and git_commit from its checkout)."""
    assert package_versions()["spectramind"] == spectramind.__version__


# ------------------------------------------------------------------ built from the package index

# Run in the built venv with `python -c` and PYTHONPATH=<repo>, as the workflow's jobs get it.
# Not through Snakemake on purpose: a script job appends Snakemake's own site-packages to
# sys.path (its preamble, for unpickling), so a job in a conda env lacking a package silently
# imports the driving venv's copy instead; a plain interpreter cannot fall back like that.
CHECK = """
import importlib, importlib.metadata, importlib.resources, importlib.util, json, re, sys
from pathlib import Path

args = json.loads(sys.argv[1])
problems = []
for module, names in args["imports"]:
    try:
        imported = importlib.import_module(module)
        for name in names:
            if not hasattr(imported, name):
                importlib.import_module(f"{module}.{name}")
    except Exception as error:
        problems.append(f"from {module} import {names}: {error!r}")
for module in args["absent"]:
    if importlib.util.find_spec(module) is not None:
        problems.append(f"{module} is importable but the env does not list it")
import spectramind
if Path(spectramind.__file__).resolve() != Path(args["repo"], "spectramind", "__init__.py"):
    problems.append(f"spectramind imported from {spectramind.__file__}, not the checkout")
# (the checkout on sys.path may hold spectramind.egg-info from an editable install: not the venv)
venv_paths = [p for p in sys.path if p.startswith(sys.prefix)]
if any(d.name == "spectramind" for d in importlib.metadata.distributions(path=venv_paths)):
    problems.append("spectramind is installed in the venv")
csv = importlib.resources.files("spectramind.data").joinpath("wavelengths.csv")
if not csv.read_text().strip():
    problems.append("package data spectramind/data/wavelengths.csv unreadable from source")
from spectramind.core.provenance import write_manifest
manifest = write_manifest(Path(args["tmp"], "manifest.json"), rule="check", outputs=[],
                          config={})
if manifest["packages"]["spectramind"] != spectramind.__version__:
    problems.append(f"manifest records spectramind {manifest['packages']['spectramind']}")
if Path(args["repo"], ".git").exists() and manifest["git_commit"] == "unknown":
    problems.append("manifest records no git commit of the checkout")
recorded_versions = {re.sub("[-_.]+", "-", name).lower(): recorded
                     for name, recorded in manifest["packages"].items()}
for name, pinned in args["pins"].items():
    recorded = recorded_versions.get(name)
    if recorded is not None and recorded.split("+")[0] != pinned:  # +cpu: torch's local label
        problems.append(f"manifest records {name} {recorded}, the env pins {pinned}")
if args["netcdf"]:  # xarray's .nc files, written as the library writes them, read back
    import numpy as np
    import xarray as xr
    from spectramind.core.netcdf import write_netcdf
    path = Path(args["tmp"], "roundtrip.nc")
    write_netcdf(xr.Dataset({"flux": ("time", np.arange(3.0))}), path)
    with xr.open_dataset(path) as dataset:
        if dataset["flux"].values.tolist() != [0.0, 1.0, 2.0]:
            problems.append("netCDF round trip changed the data")
print(json.dumps(problems))
"""


@pytest.fixture(scope="module")
def built_venvs(tmp_path_factory):
    """A venv per distinct pip requirement set, built on first use (envs listing the same
    packages share one)."""
    venvs: dict[tuple[str, ...], Path] = {}

    def build(requirements: list[str]) -> Path:
        key = tuple(requirements)
        if key not in venvs:
            venv = tmp_path_factory.mktemp("venv")
            # No --system-site-packages: only what the env lists (and its dependencies). This
            # venv's pip installs into it (--python: no pip of its own to set up), without
            # compiling every installed file to bytecode (torch's take most of the time).
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
                           check=True, timeout=300)  # fmt: skip
            result = subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install",
                 "--no-input", "--disable-pip-version-check", "--quiet", "--no-compile",
                 *requirements],
                capture_output=True, text=True, timeout=1800, check=False, env=_clean_env(),
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-3000:]
            venvs[key] = venv
        return venvs[key]

    yield build
    for venv in venvs.values():  # ~2 GB in all (torch's 1.2 GB): not kept with tmp_path
        shutil.rmtree(venv)


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would leak the driving venv into another."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    return env | {"PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1"} | extra


def script_imports(env_file: Path) -> list[tuple[str, tuple[str, ...]]]:
    """What the env's rules' scripts import, statement by statement."""
    found = set()
    for rule in rules_of(env_file):
        found.update(imports_of(rule.script))
    return sorted(found)


# All envs take 1 min 45 s to 3 min 20 s on a shared 2-core machine (2026-11), every venv
# downloading its wheels from the index again (pip kept no cache between runs there): in
# make test-all (CI), as nothing else shows that an env is complete; not in the offline make
# test.
@pytest.mark.network
@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_built_from_the_index_runs_its_rules_imports(env_file, built_venvs, tmp_path):
    venv = built_venvs(pip_requirements(env_file))
    listed = {package.pypi for package in env_packages(env_file)}
    needs_modules = {distribution_of(m) for r in rules_of(env_file)
                     for m in third_party_imports(r.script)}  # fmt: skip
    imports = script_imports(env_file)
    args = {
        "repo": str(REPO),
        "tmp": str(tmp_path),
        # netCDF4 too: it is imported by no script, only used by xarray (NEEDED_WITH)
        "imports": [*imports, *([("netCDF4", ())] if "netcdf4" in listed else [])],
        "absent": sorted(module for dist, module in HEAVY.items() if dist not in listed),
        "pins": {p.pypi: lock_pins()[p.pypi] for p in env_packages(env_file)},
        "netcdf": "xarray" in needs_modules,
    }
    result = subprocess.run(
        [str(venv / "bin/python"), "-c", CHECK, json.dumps(args)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        env=_clean_env(PYTHONPATH=str(REPO)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    assert not problems, f"{env_file.name}: {problems}"
