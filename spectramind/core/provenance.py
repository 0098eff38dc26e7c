"""Run manifests: what produced an output (config hash, git commit, package versions, sha256).

Every rule writes one through ``write_manifest`` so any result can be traced and re-made.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from spectramind import __version__
from spectramind.core.atomic import write_json_atomic

# Third-party packages whose installed version a manifest records. spectramind's own is the
# version of the code that ran (see package_versions), whatever installed it or did not.
TRACKED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "astropy",
    "xarray",
    "netCDF4",
    "batman-package",
    "numba",
    "matplotlib",
    "torch",
    "torch_geometric",
    "snakemake",
)
HASH_BLOCK = 1 << 22
PACKAGE_DIR = Path(__file__).resolve().parent


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 of the config as canonical JSON (sorted keys), stable across runs."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def sha256_outputs(paths: Iterable[str | Path]) -> dict[str, str]:
    """sha256 of every file among ``paths``; folders contribute each file inside them."""
    hashes: dict[str, str] = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            hashes[str(file)] = sha256_file(file)
    return hashes


def git_commit(directory: str | Path = PACKAGE_DIR) -> str:
    """Commit of the spectramind checkout that ran, '+dirty' with local changes, or 'unknown'
    (e.g. an installed copy on Kaggle)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit


def package_versions() -> dict[str, str]:
    """Versions of the packages results depend on: spectramind's from the code that runs (a
    job imports it from the workflow's checkout via PYTHONPATH, which is no installed
    distribution, and an installed copy elsewhere could be other code; git_commit says
    which), the others from installed metadata (no imports), "not installed" where absent
    (a rule's lean conda env lacks what its code does not import)."""
    versions = {"spectramind": __version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_manifest(
    path: str | Path,
    *,
    rule: str,
    outputs: Iterable[str | Path],
    config: Mapping[str, Any],
    wildcards: Mapping[str, Any] | None = None,
    seconds: float | None = None,
    batch: Sequence[int] | None = None,
    failure: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the manifest JSON of one rule run and return it. ``config`` is what the rule
    read of the config; ``batch`` the planets of the job, for a per-planet stage's unit;
    ``failure`` what raised on that unit, whose outputs are failure records."""
    manifest = {
        "rule": rule,
        "wildcards": dict(wildcards or {}),
        **({} if batch is None else {"batch": sorted(batch)}),
        **({} if failure is None else {"failure": dict(failure)}),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": seconds,
        "config_sha256": config_hash(config),
        "config": dict(config),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "outputs": sha256_outputs(outputs),
    }
    write_json_atomic(path, manifest)
    return manifest
