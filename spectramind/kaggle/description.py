"""A Kaggle image as the bundle is built for it: a requirements-style file (kaggle/images/)
whose header comments give the image's Python, glibc and platform, and whose lines are the
packages it preinstalls, ``name==version``. The wheelhouse is resolved against it (what the
image has is held at its version, the rest is shipped) and the notebook's first step compares
the running image with it (``image.check_image``).

    # python: 3.11.13
    # glibc: 2.35
    # platform: linux x86_64
    # pip: 24.1.2
    # read: <where and when the versions were read>
    numpy==1.26.4
    ...

``python -m spectramind.kaggle describe-image`` writes such a file from inside a running
notebook (``describe_running_image``). Standard library only: it runs before anything is
installed, and rules/kaggle.smk imports it when the Snakefile is parsed.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

# The images shipped with the workflow, by name (kaggle.image: a name or a path).
IMAGES = "kaggle/images"
HEADER = re.compile(r"^#\s*([a-z]+):\s*(.*?)\s*$")
LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")
REQUIRED = ("python", "glibc", "platform")
SUPPORTED_PLATFORM = "linux x86_64"
# The packages a description always lists when the image has them, besides the workflow's
# requirements and everything they need (describe_running_image): what Kaggle's images are
# known by.
CORE = ("numpy", "scipy", "pandas", "matplotlib", "scikit-learn", "pyarrow", "torch", "tqdm",
        "pyyaml", "setuptools", "wheel")  # fmt: skip
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
EXTRA_MARKER = re.compile(r";.*\bextra\s*==")


class DescriptionError(ValueError):
    """An image description that cannot be read; the message names the file and line."""


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class ImageDescription:
    """A Kaggle image: its Python (full version), glibc, platform, pip (when read), the
    packages it preinstalls by canonical name, and the header's other lines (provenance)."""

    name: str
    python: str  # "3.11.13"
    glibc: str  # "2.35"
    platform: str = SUPPORTED_PLATFORM
    pip: str | None = None
    packages: dict[str, str] = field(default_factory=dict)
    comments: tuple[str, ...] = ()

    @property
    def python_version(self) -> str:
        """major.minor: what wheels are built for."""
        return ".".join(self.python.split(".")[:2])

    def as_dict(self) -> dict[str, object]:
        """Its fields as JSON values, the file's free comments left out."""
        fields = asdict(self)
        del fields["comments"]
        return fields

    def text(self) -> str:
        """The description as a file: its comments, the header keys, the packages."""
        lines = [f"# {c}".rstrip() for c in self.comments]
        lines += [f"# python: {self.python}", f"# glibc: {self.glibc}"]
        lines += [f"# platform: {self.platform}"]
        lines += [f"# pip: {self.pip}"] if self.pip else []
        lines += [f"{name}=={version}" for name, version in sorted(self.packages.items())]
        return "\n".join(lines) + "\n"


def parse_description(text: str, name: str) -> ImageDescription:
    """An image description from its text (``name`` names it in messages)."""
    header: dict[str, str] = {}
    comments: list[str] = []
    packages: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key = HEADER.match(line)
            if key and key[1] in (*REQUIRED, "pip"):
                header[key[1]] = key[2]
            else:
                comments.append(line[1:].strip())
            continue
        package = LINE.match(line)
        if not package:
            raise DescriptionError(f"{name}:{number}: {raw!r} is not name==version")
        if canonical(package[1]) in packages:
            raise DescriptionError(f"{name}:{number}: {package[1]} is listed twice")
        packages[canonical(package[1])] = package[2]
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise DescriptionError(f"{name}: no '# {missing[0]}: ...' line in its header")
    if not re.fullmatch(r"3\.\d+(\.\d+)?", header["python"]):
        raise DescriptionError(f"{name}: python {header['python']!r} is not like 3.11.13")
    if not re.fullmatch(r"2\.\d+", header["glibc"]):
        raise DescriptionError(f"{name}: glibc {header['glibc']!r} is not like 2.35")
    if header["platform"] != SUPPORTED_PLATFORM:
        raise DescriptionError(
            f"{name}: platform {header['platform']!r}: only {SUPPORTED_PLATFORM!r} is supported"
        )
    return ImageDescription(
        name=name,
        python=header["python"],
        glibc=header["glibc"],
        platform=header["platform"],
        pip=header.get("pip"),
        packages=packages,
        comments=tuple(comments),
    )


def image_file(image: str, workflow_dir: str | Path) -> Path:
    """The description file config ``kaggle.image`` names: a name (``kaggle-2025``) of one in
    the workflow's kaggle/images/, or a path (relative ones as given: to the working folder)."""
    if "/" in image or image.endswith(".txt"):
        return Path(image)
    return Path(workflow_dir) / IMAGES / f"{image}.txt"


def read_description(path: str | Path) -> ImageDescription:
    """The image description in ``path``, named by its file's stem; a clear error naming the
    images there are when the file is missing."""
    path = Path(path)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.txt")) if path.parent.is_dir() else []
        raise DescriptionError(
            f"{path}: no such image description (kaggle.image)"
            + (f"; {path.parent} has {', '.join(known)}" if known else "")
        )
    return parse_description(path.read_text(), path.stem)


# ----------------------------------------------------------------- reading the running image


def glibc_version() -> str:
    """This machine's glibc (major.minor); "" when it is not glibc."""
    library, version = platform.libc_ver()
    return ".".join(version.split(".")[:2]) if library == "glibc" else ""


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def requirement_names(requirements: Iterable[str]) -> set[str]:
    """The canonical names of requirement strings (extras, versions and markers dropped)."""
    names = set()
    for requirement in requirements:
        match = REQUIREMENT_NAME.match(requirement)
        if match and not requirement.lstrip().startswith(("#", "-")):
            names.add(canonical(match[1]))
    return names


def workflow_requirements(source_root: Path) -> set[str]:
    """The names the workflow's stack is made of: the lock's (requirements/lock.txt) and
    pyproject's requirements (every extra but dev's tools), whichever of the two are there."""
    names = set()
    lock = source_root / "requirements" / "lock.txt"
    if lock.is_file():
        names |= requirement_names(lock.read_text().splitlines())
    pyproject = source_root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        project = tomllib.loads(pyproject.read_text())["project"]
        requirements = list(project.get("dependencies", []))
        for extra, listed in project.get("optional-dependencies", {}).items():
            requirements += listed if extra != "dev" else []
        names |= requirement_names(requirements)
    return names - {"spectramind"}


def installed_distributions() -> dict[str, metadata.Distribution]:
    """The installed distributions by canonical name: the first on sys.path of each (the
    one imported; a copy vendored further down the path is not), named (a broken one may
    not be)."""
    found: dict[str, metadata.Distribution] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(canonical(name), distribution)
    return found


def installed_closure(roots: Iterable[str]) -> dict[str, str]:
    """Every installed distribution among ``roots`` and, recursively, among what they
    require, by canonical name. A requirement of an extra is not followed; other markers are
    not evaluated (a requirement never needed here is listed too, which is harmless)."""
    installed = installed_distributions()
    found: dict[str, str] = {}
    todo = [canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in found or name not in installed:
            continue
        found[name] = installed[name].version
        requires = installed[name].requires or []
        todo += requirement_names(r for r in requires if not EXTRA_MARKER.search(r))
    return found


def describe_running_image(
    source_root: str | Path | None = None, every_package: bool = False, where: str = ""
) -> ImageDescription:
    """This interpreter's image: its Python, glibc, platform, pip and the packages that matter
    (the workflow's requirements found in ``source_root``, its lock, the CORE packages, and
    everything installed they need), or ``every_package`` installed. pip itself is the
    header's; it is no package of the stack."""
    root = Path(source_root) if source_root else Path(__file__).resolve().parents[2]
    if every_package:
        packages = {name: d.version for name, d in installed_distributions().items()}
    else:
        packages = installed_closure({*workflow_requirements(root), *CORE})
    packages.pop("pip", None)
    packages.pop("spectramind", None)
    read = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    comments = (
        "A Kaggle image as SpectraMind's bundle is built for it (config kaggle.image).",
        "Written by python -m spectramind.kaggle describe-image"
        + (" --all" if every_package else "")
        + ", before the bundle's install.",
        f"read: {read}, {where or platform.node()} ({sys.executable})",
    )
    return ImageDescription(
        name="running",
        python=platform.python_version(),
        glibc=glibc_version(),
        platform=f"{platform.system().lower()} {platform.machine()}",
        pip=installed_version("pip"),
        packages=packages,
        comments=comments,
    )
