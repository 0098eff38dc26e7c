"""The tools the bundle's wheelhouse is built with, checked before anything is built: pip must
resolve for another platform in a dry run (``pip install --dry-run --report --platform ...``
without ``--target``: pip 23.3 and later; pip 23.2, the default of a Python 3.11 venv, stops
with "Can not use any platform or abi specific options unless installing via '--target'"),
and Python must read pyproject.toml (tomllib: 3.11).

Standard library only: rules/kaggle.smk runs the check when the workflow starts
(``onstart``), before the training jobs a bundle waits for.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

MIN_PIP = (23, 3)
MIN_PYTHON = (3, 11)
FOUND = "found"  # check_build_tools: read pip's version from this interpreter


class ToolError(RuntimeError):
    """A tool of the bundle build is too old or missing; the message says how to fix it."""


def release(text: str) -> tuple[int, ...]:
    """The leading numeric release of a version string ("23.2.1" -> (23, 2, 1))."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    return tuple(int(part) for part in match[0].split(".")) if match else ()


def pip_version() -> str | None:
    """The version of pip this interpreter runs (``python -m pip``); None without pip."""
    try:
        return version("pip")
    except PackageNotFoundError:
        return None


def check_build_tools(
    pip: str | None = FOUND, python: tuple[int, int] | None = None, executable: str | None = None
) -> str:
    """``ToolError`` naming the version found, the version needed and the fix when this
    interpreter (or the given versions; ``pip`` None: no pip) cannot build the wheelhouse;
    else a line saying what was found."""
    executable = executable or sys.executable
    pip = pip_version() if pip == FOUND else pip
    python = python or (sys.version_info.major, sys.version_info.minor)
    needed_python = ".".join(map(str, MIN_PYTHON))
    needed_pip = ".".join(map(str, MIN_PIP))
    problems = []
    if python < MIN_PYTHON:
        problems.append(
            f"Python {python[0]}.{python[1]} ({executable}) found, Python {needed_python} or "
            "newer needed: run the workflow from a venv of a newer Python"
        )
    if pip is None:
        problems.append(
            f"no pip in {executable}, pip {needed_pip} or newer needed: "
            f"{executable} -m ensurepip --upgrade && {executable} -m pip install -U pip"
        )
    elif release(pip) < MIN_PIP:
        problems.append(
            f"pip {pip} ({executable}) found, pip {needed_pip} or newer needed (older pip "
            "cannot resolve wheels for the Kaggle image's platform without --target): "
            f"{executable} -m pip install -U pip"
        )
    if problems:
        raise ToolError("cannot build the Kaggle bundle's wheelhouse: " + "; ".join(problems))
    return f"pip {pip}, Python {python[0]}.{python[1]} ({executable})"


def check_bundle_tools(workflow: Any, kaggle: dict[str, Any]) -> None:
    """rules/kaggle.smk's start-up check (``onstart``: before any job runs): when the run
    builds a bundle whose wheelhouse is resolved here (no ``kaggle.wheelhouse_from``) by
    Snakemake's own interpreter (no conda environment), ``ToolError`` if its pip or Python
    cannot. A run with conda checks in the job (``bundle.build_bundle``)."""
    if kaggle.get("wheelhouse_from"):
        return
    if any(m.name == "CONDA" for m in workflow.deployment_settings.deployment_method):
        return
    if any(job.rule.name == "kaggle_bundle" for job in workflow.dag.needrun_jobs()):
        check_build_tools()
