"""The bundle's wheelhouse: every wheel the Kaggle image lacks, for the image's Python and
platform, so that the offline notebook installs with one command (``layout.install_command``).

What goes in: the project's runtime pins (pyproject dependencies plus the ``model`` extra)
and everything they need, except the packages the image preinstalls (config
``kaggle.preinstalled``) and what only those need. The image's own torch is used: PyPI's
Linux torch would drag several GB of CUDA wheels into the bundle.

How: pip resolves the set in a throw-away environment holding metadata-only stand-ins of the
preinstalled packages at the versions pyproject pins (the tested ones). pip counts them as
installed, so it neither downloads them nor follows their dependencies, and its dry-run
report lists exactly the wheels to fetch, which are then downloaded as resolved. (Downloading
with dependencies and deleting the preinstalled wheels afterwards would fetch torch and its
CUDA wheels only to throw them away; a constraints file cannot exclude a package.)

The project's own wheel drops its pins of the preinstalled packages: the image brings its
own versions, which ``image.check_image`` compares with the tested ones at install time.
A dependency with no wheel for the image on the index is built here from its sdist; a pure
Python wheel suits any image, a compiled one only an image with this machine's Python.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from spectramind.core.atomic import write_json_atomic
from spectramind.core.provenance import sha256_file
from spectramind.kaggle.layout import REQUIREMENTS, WHEELHOUSE_MANIFEST

log = logging.getLogger(__name__)

PROJECT = "spectramind"
EXTRAS = ("model",)
ARCH = "x86_64"
# Legacy names of manylinux platforms, by the glibc minor version they stand for.
LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
MISSING = re.compile(r"No matching distribution found for (\S+)")
PIN = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*$")
MAX_SOURCE_BUILDS = 20
PIP_TIMEOUT_S = 1800


class WheelhouseError(RuntimeError):
    """The wheelhouse cannot be built; the message names the package or file and why."""


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Target:
    """The interpreter and platforms the wheels must install on."""

    python_version: str  # "3.12"
    platforms: tuple[str, ...]  # preferred first

    @classmethod
    def kaggle_image(cls, python_version: str, glibc: str) -> Target:
        """x86_64 manylinux up to the image's glibc; plus this machine's own linux tag when
        its Python is the image's, so a wheel compiled here from an sdist is accepted."""
        newest = int(glibc.split(".")[1])
        platforms = []
        for minor in range(newest, 4, -1):
            platforms.append(f"manylinux_2_{minor}_{ARCH}")
            if minor in LEGACY_MANYLINUX:
                platforms.append(f"{LEGACY_MANYLINUX[minor]}_{ARCH}")
        if python_version == local_python() and local_platform() == f"linux_{ARCH}":
            platforms.append(f"linux_{ARCH}")
        return cls(python_version, tuple(platforms))

    @property
    def nodot(self) -> str:
        return self.python_version.replace(".", "")

    def pip_options(self) -> list[str]:
        """pip's options selecting wheels for this target (binary only, as pip demands)."""
        options = ["--only-binary=:all:", "--implementation", "cp"]
        options += ["--python-version", self.python_version]
        for name in self.platforms:
            options += ["--platform", name]
        return options

    def accepts(self, wheel: str) -> bool:
        """Whether the wheel file name's tags install on this target."""
        python_tags, abi_tags, platform_tags = Path(wheel).stem.split("-")[-3:]
        minor = int(self.python_version.split(".")[1])
        older_cpythons = {f"cp3{m}" for m in range(minor + 1)}
        pure = {"py3", *(f"py3{m}" for m in range(minor + 1)), f"cp{self.nodot}"}
        if not any(tag == "any" or tag in self.platforms for tag in platform_tags.split(".")):
            return False
        for python in python_tags.split("."):
            for abi in abi_tags.split("."):
                if abi == "none" and python in pure:
                    return True
                if abi == "abi3" and python in older_cpythons:
                    return True
                if abi == python == f"cp{self.nodot}":
                    return True
        return False


def local_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def local_platform() -> str:
    return f"{platform.system().lower()}_{platform.machine()}"


def project_requirements(pyproject: str | Path, extras: Sequence[str] | None = EXTRAS) -> list[str]:
    """The project's requirements: its dependencies and those of ``extras`` (None: all)."""
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    optional = project["optional-dependencies"]
    requirements = list(project["dependencies"])
    for extra in optional if extras is None else extras:
        requirements += optional[extra]
    return requirements


def project_pins(pyproject: str | Path, extras: Sequence[str] | None = EXTRAS) -> dict[str, str]:
    """The version of each of ``project_requirements``, by canonical name; each must be
    pinned with ``==``."""
    pins = {}
    for requirement in project_requirements(pyproject, extras):
        match = PIN.match(requirement)
        if not match:
            raise WheelhouseError(f"{pyproject}: {requirement!r} is not pinned with ==")
        pins[canonical(match[1])] = match[2]
    return pins


def preinstalled_pins(pyproject: str | Path, names: Iterable[str]) -> dict[str, str]:
    """The versions of the preinstalled packages the project was tested with: its pins
    (runtime, extras, dev). A preinstalled package the project never pins has no tested
    version to stand in for it, so that is an error naming it."""
    pins = project_pins(pyproject, extras=None)
    unpinned = sorted(canonical(n) for n in names if canonical(n) not in pins)
    if unpinned:
        raise WheelhouseError(
            f"{pyproject}: no == pin of the preinstalled package(s) {unpinned} "
            "(kaggle.preinstalled): pin the version tested here"
        )
    return {canonical(n): pins[canonical(n)] for n in names}


def relaxed_pyproject(text: str, preinstalled: Iterable[str]) -> str:
    """pyproject.toml with its pins of the preinstalled packages dropped ("numpy==2.4.6"
    becomes "numpy"): the image's versions satisfy the installed project's metadata."""
    names = {canonical(n) for n in preinstalled}

    def relax(match: re.Match) -> str:
        pin = PIN.match(match[1])
        return f'"{pin[1]}"' if pin and canonical(pin[1]) in names else match[0]

    return re.sub(r'"([^"\n]+==[^"\n]+)"', relax, text)


def _pip(*args: str, what: str) -> subprocess.CompletedProcess:
    """Run pip of this interpreter; the result, whatever its exit code."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    log.info("%s: %s", what, " ".join(command))
    return subprocess.run(
        command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
    )


def _failed(result: subprocess.CompletedProcess, what: str) -> WheelhouseError:
    tail = "\n".join(result.stderr.strip().splitlines()[-15:])
    return WheelhouseError(f"{what} failed (pip exit code {result.returncode}):\n{tail}")


def build_project_wheel(source_root: str | Path, dest: Path, preinstalled: Iterable[str]) -> Path:
    """The project's wheel, built from a copy of its sources whose pins of the preinstalled
    packages are dropped (the checkout itself is left untouched)."""
    source_root = Path(source_root)
    with tempfile.TemporaryDirectory(prefix="spectramind-wheel-") as scratch:
        copy = Path(scratch, "source")
        copy.mkdir()
        text = (source_root / "pyproject.toml").read_text()
        (copy / "pyproject.toml").write_text(relaxed_pyproject(text, preinstalled))
        shutil.copy2(source_root / "README.md", copy / "README.md")
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source_root / PROJECT, copy / PROJECT, ignore=ignore)
        built = Path(scratch, "wheel")
        result = _pip("wheel", "--no-deps", "--wheel-dir", str(built), str(copy), what="build")
        if result.returncode:
            raise _failed(result, f"building the {PROJECT} wheel from {source_root}")
        (wheel,) = built.glob("*.whl")
        return Path(shutil.move(wheel, dest / wheel.name))


def stub_environment(folder: Path, versions: dict[str, str]) -> Path:
    """A bare environment (no pip) whose site-packages holds metadata-only stand-ins of
    ``versions``: pip resolving in it counts them installed. Returns its interpreter."""
    venv.create(folder, with_pip=False, symlinks=True)
    site = folder / "lib" / f"python{local_python()}" / "site-packages"
    for name, version in versions.items():
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        (dist_info / "INSTALLER").write_text("spectramind-kaggle-stub\n")
    return folder / "bin" / "python"


def build_from_source(requirement: str, built: Path, target: Target, constraints: Path) -> Path:
    """A wheel of ``requirement`` built here from its sdist (the index has no wheel of it for
    the target); an error naming it when the built wheel cannot install on the target."""
    before = set(built.glob("*.whl"))
    result = _pip(
        "wheel", "--no-deps", "--constraint", str(constraints), "--wheel-dir", str(built),
        requirement, what=f"no wheel on the index: building {requirement}",
    )  # fmt: skip
    if result.returncode:
        raise _failed(result, f"{requirement}: no wheel for the image; building its sdist")
    (wheel,) = set(built.glob("*.whl")) - before
    if not target.accepts(wheel.name):
        wheel.unlink()
        raise WheelhouseError(
            f"{requirement}: the index has no wheel for Python {target.python_version} on "
            f"manylinux {ARCH}, and the one built here from its sdist ({wheel.name}) only "
            f"installs on this machine (Python {local_python()}, {local_platform()}): build "
            f"the bundle on {ARCH} Linux with Python {target.python_version} "
            "(kaggle.python_version)"
        )
    log.info("built %s from its sdist", wheel.name)
    return wheel


def resolve(
    root: str, target: Target, stubs: dict[str, str], constraints: Path, built: Path
) -> list[dict[str, Any]]:
    """pip's dry-run install report of ``root`` for the target, in an environment where
    ``stubs`` count as installed; requirements without a wheel on the index are built from
    source into ``built`` (searched as a find-links folder) and the resolution retried."""
    with tempfile.TemporaryDirectory(prefix="spectramind-resolve-") as scratch:
        python = stub_environment(Path(scratch, "env"), stubs)
        report = Path(scratch, "report.json")
        tried: set[str] = set()
        for _ in range(MAX_SOURCE_BUILDS):
            result = _pip(
                "--python", str(python), "install", "--dry-run", "--quiet",
                "--report", str(report), "--constraint", str(constraints),
                "--find-links", str(built), *target.pip_options(), root,
                what="resolve",
            )  # fmt: skip
            if result.returncode == 0:
                return json.loads(report.read_text())["install"]
            missing = MISSING.search(result.stderr)
            if not missing or missing[1] in tried:
                raise _failed(result, f"resolving {root} for Python {target.python_version}")
            tried.add(missing[1])
            build_from_source(missing[1], built, target, constraints)
        raise WheelhouseError(f"resolving {root}: more than {MAX_SOURCE_BUILDS} sdist builds")


def download(items: list[dict[str, Any]], dest: Path, target: Target) -> list[str]:
    """Fetch every resolved wheel into ``dest`` as resolved (same file, hash checked);
    local files (built here) are copied. Returns the file names."""
    names, remote = [], []
    for item in items:
        url = item["download_info"]["url"]
        name = unquote(Path(urlparse(url).path).name)
        names.append(name)
        if url.startswith("file:"):
            shutil.copy2(unquote(urlparse(url).path), dest / name)
        else:
            remote.append(url)
    if remote:
        result = _pip(
            "download", "--no-deps", "--dest", str(dest), *target.pip_options(), *remote,
            what="download",
        )  # fmt: skip
        if result.returncode:
            raise _failed(result, f"downloading {len(remote)} wheels into {dest}")
    for item, name in zip(items, names, strict=True):
        expected = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        if expected and sha256_file(dest / name) != expected:
            raise WheelhouseError(f"{dest / name}: sha256 differs from the index's {expected}")
    return names


def build_wheelhouse(
    source_root: str | Path, dest: Path, target: Target, preinstalled: Sequence[str]
) -> dict[str, Any]:
    """Fill ``dest`` with the wheels the image lacks, its requirements.txt (the one line
    to install) and its manifest; return the manifest."""
    pyproject = Path(source_root) / "pyproject.toml"
    requirements = project_requirements(pyproject)
    pins = project_pins(pyproject)
    stubs = preinstalled_pins(pyproject, preinstalled)
    dest.mkdir(parents=True, exist_ok=True)
    project = build_project_wheel(source_root, dest, preinstalled)
    with tempfile.TemporaryDirectory(prefix="spectramind-sdist-") as scratch:
        constraints = Path(scratch, "constraints.txt")
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in {**pins, **stubs}.items()))
        built = Path(scratch, "built")
        built.mkdir()
        root = f"{project}[{','.join(EXTRAS)}]"
        items = resolve(root, target, stubs, constraints, built)
        dependencies = [i for i in items if canonical(i["metadata"]["name"]) != PROJECT]
        names = download(dependencies, dest, target)
        from_source = sorted(p.name for p in built.glob("*.whl"))
    version = project.name.split("-")[1]
    (dest / REQUIREMENTS).write_text(f"{PROJECT}[{','.join(EXTRAS)}]=={version}\n")
    manifest = {
        "python_version": target.python_version,
        "platforms": list(target.platforms),
        "preinstalled": stubs,
        "requirements": requirements,
        "project": project.name,
        "built_from_source": from_source,
        "wheels": {name: sha256_file(dest / name) for name in sorted([project.name, *names])},
    }
    write_json_atomic(dest / WHEELHOUSE_MANIFEST, manifest)
    return manifest


def copy_wheelhouse(
    source: str | Path, dest: Path, target: Target, preinstalled: Sequence[str], pyproject: Path
) -> dict[str, Any]:
    """Reuse an earlier bundle's wheelhouse (offline, e.g. the attached one in Kaggle's
    training notebook) after checking it was built for this target and these pins."""
    source = Path(source)
    path = source / WHEELHOUSE_MANIFEST
    if not path.is_file():
        raise WheelhouseError(f"{path}: not found: kaggle.wheelhouse_from is no wheelhouse")
    manifest = json.loads(path.read_text())
    wanted = {
        "python_version": target.python_version,
        "preinstalled": preinstalled_pins(pyproject, preinstalled),
        "requirements": project_requirements(pyproject),
    }
    differ = sorted(key for key, value in wanted.items() if manifest.get(key) != value)
    if differ:
        raise WheelhouseError(
            f"{path}: built for other {', '.join(differ)} than this run's: rebuild it with "
            "network access (kaggle.wheelhouse_from: null)"
        )
    for name, digest in manifest["wheels"].items():
        if not (source / name).is_file() or sha256_file(source / name) != digest:
            raise WheelhouseError(f"{source / name}: missing or changed since it was built")
    shutil.copytree(source, dest)
    return manifest
