"""The bundle's wheelhouse: every wheel the Kaggle image lacks, for the image's Python and
platform, so that the offline notebook installs with one command (``layout.install_command``).

The image is a description (``description.ImageDescription``, config ``kaggle.image``): its
Python, glibc and the packages it preinstalls at their versions. What goes in: the project's
requirements (pyproject dependencies plus the ``model`` extra: supported ranges) and
everything they need, at versions that work with what the image has, except the image's own
packages: none of them is shipped or replaced. The image's own torch is used: PyPI's Linux
torch would drag several GB of CUDA wheels into the bundle.

How: pip resolves the set in a throw-away environment holding metadata-only stand-ins of the
image's packages at the image's versions, each also held by a constraint (``name==version``):
pip counts them as installed, so it neither downloads them nor follows their dependencies, and
must find versions of the rest that work with them. The lock (requirements/lock.txt) is a
preference: its pins are constraints too, less those that
conflict with the image (pip names them; they are dropped one resolution at a time). The
dry-run report lists exactly the wheels to fetch, which are then downloaded as resolved.
(Downloading with dependencies and deleting the preinstalled wheels afterwards would fetch
torch and its CUDA wheels only to throw them away; a constraints file cannot exclude a
package.)

The manifest keeps the description and, for each of the image's packages the shipped wheels
(or the project) require, the range they support: ``image.check_image`` compares the running
image with both. A dependency with no wheel for the image on the index is built here from its
sdist; a pure Python wheel suits any image, a compiled one only an image with this machine's
Python.
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
from spectramind.kaggle.description import ImageDescription, canonical
from spectramind.kaggle.layout import LOCK, REQUIREMENTS, WHEELHOUSE_MANIFEST
from spectramind.kaggle.tools import check_build_tools

log = logging.getLogger(__name__)

PROJECT = "spectramind"
EXTRAS = ("model",)
ARCH = "x86_64"
# Legacy names of manylinux platforms, by the glibc minor version they stand for.
LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
MISSING = re.compile(r"No matching distribution found for (\S+)")
# A requirements file's pin: name==version, then perhaps a marker, hashes or a comment.
LOCK_LINE = re.compile(r"^([A-Za-z0-9][\w.-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#\\]+)")
CONFLICT = re.compile(r"The conflict is caused by:\n(.*?)(?:\n\s*\n|\Z)", re.S)
# pip's ResolutionImpossible, when versions of a requirement exist only as sdists.
NO_DISTRIBUTION = re.compile(
    r"have no matching distributions available for your environment:\n(.*?)(?:\n\s*\n|\Z)",
    re.S,
)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_SOURCE_BUILDS = 20
MAX_RESOLUTIONS = 60
PIP_TIMEOUT_S = 1800


class WheelhouseError(RuntimeError):
    """The wheelhouse cannot be built; the message names the package or file and why."""


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

    @classmethod
    def of(cls, image: ImageDescription) -> Target:
        return cls.kaggle_image(image.python_version, image.glibc)

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


def read_pins(path: str | Path) -> dict[str, str]:
    """The ``name==version`` lines of a requirements file (the lock), by canonical name;
    comments, options and other requirements are skipped."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        match = LOCK_LINE.match(line.strip())
        if match:
            pins[canonical(match[1])] = match[2]
    return pins


def lock_pins(source_root: str | Path) -> dict[str, str]:
    """The tested versions the wheelhouse prefers: the lock (requirements/lock.txt, the full
    transitive set); a clear error naming it when it is missing."""
    lock = Path(source_root) / LOCK
    if not lock.is_file():
        raise WheelhouseError(f"{lock}: not found: the wheelhouse prefers the lock's versions")
    return read_pins(lock)


def _pip(*args: str, what: str) -> subprocess.CompletedProcess:
    """Run pip of this interpreter; the result, whatever its exit code."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    log.info("%s: %s", what, " ".join(command))
    return subprocess.run(
        command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
    )


def _failed(
    result: subprocess.CompletedProcess, what: str, output: str | None = None
) -> WheelhouseError:
    """pip's failure: its output's end (a conflict's explanation, when there is one) without
    its warnings about the index's folders."""
    output = result.stderr if output is None else output
    block = CONFLICT.search(output)
    lines = [line for line in output.strip().splitlines() if not line.startswith("WARNING")]
    tail = "\n".join(block[0].strip().splitlines()[:25] if block else lines[-15:])
    return WheelhouseError(f"{what} failed (pip exit code {result.returncode}):\n{tail}")


def build_project_wheel(source_root: str | Path, dest: Path) -> Path:
    """The project's wheel, built from a copy of its sources (the checkout itself is left
    untouched); its requirements are pyproject's ranges, which the image must meet."""
    source_root = Path(source_root)
    with tempfile.TemporaryDirectory(prefix="spectramind-wheel-") as scratch:
        copy = Path(scratch, "source")
        copy.mkdir()
        shutil.copy2(source_root / "pyproject.toml", copy / "pyproject.toml")
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
        write_stub(site, name, version)
    return folder / "bin" / "python"


def write_stub(site: Path, name: str, version: str) -> Path:
    """A metadata-only stand-in of a distribution in the ``site`` folder (site-packages):
    installed as far as pip and importlib.metadata can tell, with nothing to import."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (dist_info / "INSTALLER").write_text("spectramind-kaggle-stub\n")
    return dist_info


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
            f"the bundle on {ARCH} Linux with Python {target.python_version} (the image's, "
            "kaggle.image)"
        )
    log.info("built %s from its sdist", wheel.name)
    return wheel


class Conflict(WheelhouseError):
    """pip found no set of versions meeting every requirement and constraint."""

    def __init__(self, message: str, names: set[str]) -> None:
        super().__init__(message)
        self.names = names  # the canonical names pip's explanation mentions


def conflict_names(stderr: str) -> set[str]:
    """The canonical names of every package pip's ResolutionImpossible explanation ("The
    conflict is caused by: ...") mentions; all of its output's when it has none."""
    block = CONFLICT.search(stderr)
    return {canonical(name) for name in NAME.findall(block[1] if block else stderr)}


def write_constraints(path: Path, *pins: dict[str, str]) -> Path:
    path.write_text("".join(f"{n}=={v}\n" for group in pins for n, v in sorted(group.items())))
    return path


def unavailable(output: str) -> list[str]:
    """The requirements pip found no wheel of for the target: "No matching distribution
    found for X", or those a ResolutionImpossible lists as having no matching distribution."""
    found = [m[1] for m in MISSING.finditer(output)]
    block = NO_DISTRIBUTION.search(output)
    return found + (block[1].split() if block else [])


def applies(requirement: Any, environment: dict[str, str], extras: Sequence[str]) -> bool:
    """Whether a requirement (packaging's) applies on the image with these extras."""
    marker = requirement.marker
    return not marker or any(marker.evaluate(environment | {"extra": e}) for e in extras or [""])


def compatible_preferences(
    preferred: dict[str, str], held: dict[str, str], target: Target, python: str, scratch: Path
) -> dict[str, str]:
    """The lock's pins that can go with the image: those with a wheel for it whose own
    requirements the image's versions meet (pip's metadata of each pin, no resolution).
    Holding a pin the image rules out would send pip's resolver backtracking through every
    release of what depends on it; without it, pip picks a version that works."""
    Requirement, _ = _packaging()
    environment = target_environment(target, python)
    kept = dict(preferred)
    report = scratch / "preferred.json"
    for _ in range(MAX_RESOLUTIONS):
        pins = [f"{n}=={v}" for n, v in sorted(kept.items())]
        result = _pip(
            "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
            "--report", str(report), *target.pip_options(), *pins,
            what="the lock's pins for the image",
        )  # fmt: skip
        if result.returncode == 0:
            break
        missing = {canonical(NAME.match(m)[0]) for m in unavailable(result.stdout + result.stderr)}
        if not missing & set(kept):
            raise _failed(result, "reading the lock's pins for the image")
        for name in sorted(missing & set(kept)):
            log.info("no wheel of the lock's %s==%s for the image: not preferred", name,
                     kept.pop(name))  # fmt: skip
    else:
        raise WheelhouseError(f"reading the lock's pins: more than {MAX_RESOLUTIONS} tries")
    for item in json.loads(report.read_text())["install"]:
        name = canonical(item["metadata"]["name"])
        for text in item["metadata"].get("requires_dist", []):
            requirement = Requirement(text)
            needed = canonical(requirement.name)
            if needed in held and applies(requirement, environment, []):
                if not requirement.specifier.contains(held[needed], prereleases=True):
                    log.info("the lock's %s==%s needs %s, the image has %s==%s: not preferred",
                             name, kept.pop(name, "?"), text, needed, held[needed])  # fmt: skip
                    break
    return kept


def resolve(
    root: str,
    target: Target,
    held: dict[str, str],
    preferred: dict[str, str],
    scratch: Path,
    built: Path,
) -> list[dict[str, Any]]:
    """pip's dry-run install report of ``root`` for the target, in an environment where the
    image's packages (``held``) count as installed and are held at their versions, preferring
    the versions ``preferred`` (the lock's that can go with the image): those pip still finds
    in conflict, or without a wheel for the target, are dropped from ``preferred`` (in place)
    and the resolution repeated. Requirements without any wheel on the index are built from
    source into ``built`` (searched as a find-links folder)."""
    python = stub_environment(scratch / "env", held)
    report, constraints = scratch / "report.json", scratch / "constraints.txt"
    tried: set[str] = set()
    for _ in range(MAX_RESOLUTIONS):
        write_constraints(constraints, held, preferred)
        result = _pip(
            "--python", str(python), "install", "--dry-run",
            "--report", str(report), "--constraint", str(constraints),
            "--find-links", str(built), *target.pip_options(), root,
            what="resolve",
        )  # fmt: skip
        if result.returncode == 0:
            return json.loads(report.read_text())["install"]
        output = result.stdout + result.stderr  # pip explains a conflict on stdout
        names = {canonical(NAME.match(m)[0]): m for m in unavailable(output)}
        lock_has = sorted(set(names) & set(preferred))
        if lock_has:  # the lock's version has no wheel for the image: another may
            for name in lock_has:
                log.info("no wheel of the lock's %s==%s for the image: not preferred", name,
                         preferred.pop(name))  # fmt: skip
            continue
        # Without a wheel of any version: built from its sdist (the image's own packages,
        # held, are unavailable only through a conflict, below).
        untried = [name for name in names if name not in tried and name not in held]
        if untried:
            tried.update(untried)
            for name in untried:
                build_from_source(names[name], built, target, constraints)
            continue
        too_deep = "resolution-too-deep" in output
        if "ResolutionImpossible" not in output and not too_deep:
            raise _failed(result, f"resolving {root} for Python {target.python_version}")
        drop = set() if too_deep else conflict_names(output) & set(preferred)
        if not drop and preferred:
            log.warning("pip's conflict names no pin of the lock: resolving without the lock")
            drop = set(preferred)
        if not drop:
            message = f"resolving {root} against the image {target.python_version}"
            raise Conflict(str(_failed(result, message, output)), conflict_names(output))
        for name in sorted(drop):
            log.info("the lock's %s==%s conflicts with the image: not preferred", name,
                     preferred.pop(name))  # fmt: skip
    raise WheelhouseError(f"resolving {root}: no resolution in {MAX_RESOLUTIONS} tries")


def _packaging() -> tuple[Any, Any]:
    """packaging's Requirement and Marker (pip's own copy where packaging is not installed:
    the wheelhouse is built where pip is)."""
    try:
        from packaging.markers import Marker
        from packaging.requirements import Requirement
    except ImportError:
        from pip._vendor.packaging.markers import Marker
        from pip._vendor.packaging.requirements import Requirement
    return Requirement, Marker


def target_environment(target: Target, python: str) -> dict[str, str]:
    """Marker variables of the image (PEP 508)."""
    return {
        "python_version": target.python_version, "python_full_version": python,
        "os_name": "posix", "sys_platform": "linux", "platform_system": "Linux",
        "platform_machine": ARCH, "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "platform_release": "",
        "platform_version": "", "implementation_version": python,
    }  # fmt: skip


def supported_ranges(
    items: list[dict[str, Any]], held: Iterable[str], target: Target, python: str
) -> dict[str, str]:
    """For each of the image's packages that a resolved item (the project among them)
    requires on the image, the specifiers they put on it, joined ("" is any version)."""
    Requirement, _ = _packaging()
    held = set(held)
    environment = target_environment(target, python)
    specifiers: dict[str, set[str]] = {}
    for item in items:
        extras = item.get("requested_extras") or [""]
        for text in item["metadata"].get("requires_dist", []):
            requirement = Requirement(text)
            name = canonical(requirement.name)
            if name not in held:
                continue
            if not applies(requirement, environment, extras):
                continue
            specifiers.setdefault(name, set())
            if str(requirement.specifier):
                specifiers[name] |= set(str(requirement.specifier).split(","))
    return {name: ",".join(sorted(specs)) for name, specs in sorted(specifiers.items())}


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
    source_root: str | Path, dest: Path, image: ImageDescription
) -> dict[str, Any]:
    """Fill ``dest`` with the wheels the image lacks, its requirements.txt (the one line
    to install) and its manifest; return the manifest."""
    log.info("build tools: %s", check_build_tools())
    target = Target.of(image)
    pyproject = Path(source_root) / "pyproject.toml"
    requirements = project_requirements(pyproject)
    held = dict(image.packages)
    lock = lock_pins(source_root)
    preferred = {n: v for n, v in lock.items() if n not in held and n != PROJECT}
    dest.mkdir(parents=True, exist_ok=True)
    project = build_project_wheel(source_root, dest)
    root = f"{project}[{','.join(EXTRAS)}]"
    with tempfile.TemporaryDirectory(prefix="spectramind-resolve-") as scratch:
        built = Path(scratch, "built")
        built.mkdir()
        preferred = compatible_preferences(preferred, held, target, image.python, Path(scratch))
        items = resolve(root, target, held, preferred, Path(scratch), built)
        dependencies = [i for i in items if canonical(i["metadata"]["name"]) != PROJECT]
        names = download(dependencies, dest, target)
        from_source = sorted(p.name for p in built.glob("*.whl"))
    shipped = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in dependencies}
    version = project.name.split("-")[1]
    (dest / REQUIREMENTS).write_text(f"{PROJECT}[{','.join(EXTRAS)}]=={version}\n")
    manifest = {
        "python_version": target.python_version,
        "platforms": list(target.platforms),
        "image": image.as_dict() | {"ranges": supported_ranges(items, held, target, image.python)},
        "requirements": requirements,
        "lock": {
            "file": LOCK,
            "not_taken": {
                n: {"lock": lock[n], "shipped": v}
                for n, v in sorted(shipped.items())
                if n in lock and lock[n] != v
            },
        },  # fmt: skip
        "project": project.name,
        "shipped": dict(sorted(shipped.items())),
        "built_from_source": from_source,
        "wheels": {name: sha256_file(dest / name) for name in sorted([project.name, *names])},
    }
    write_json_atomic(dest / WHEELHOUSE_MANIFEST, manifest)
    return manifest


def copy_wheelhouse(
    source: str | Path, dest: Path, image: ImageDescription, pyproject: Path
) -> dict[str, Any]:
    """Reuse an earlier bundle's wheelhouse (offline, e.g. the attached one in Kaggle's
    training notebook) after checking it was built for this image and these requirements."""
    source = Path(source)
    path = source / WHEELHOUSE_MANIFEST
    if not path.is_file():
        raise WheelhouseError(f"{path}: not found: kaggle.wheelhouse_from is no wheelhouse")
    manifest = json.loads(path.read_text())
    built_for = manifest.get("image", {})
    differ = [
        key
        for key, same in (
            ("python_version", manifest.get("python_version") == image.python_version),
            ("image packages", built_for.get("packages") == image.packages),
            ("requirements", manifest.get("requirements") == project_requirements(pyproject)),
        )
        if not same
    ]
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
