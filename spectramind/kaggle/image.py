"""Check the Kaggle image against the one the bundle was built for (its description,
``description.ImageDescription``, kept in the wheelhouse's manifest), then install the
bundle's wheelhouse offline (standard library only: this runs before anything is installed).

One message says what differs and whether it matters:

    error  the image's Python (major.minor) is not the description's: the compiled wheels
           install on no other; a package the bundle's wheels need is missing, or its version
           is outside the range they (and the project) support; an older glibc than described
    note   a package at another version inside that range, another Python patch release,
           a described package missing that nothing of the bundle needs

The install then checks that pip replaced none of the image's packages (it keeps any that
satisfies the bundle's requirements; the wheelhouse was resolved against the described ones).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import invalidate_caches
from pathlib import Path
from typing import Any

from spectramind.kaggle.description import (
    glibc_version,
    installed_distributions,
    installed_version,
)
from spectramind.kaggle.layout import WHEELHOUSE, WHEELHOUSE_MANIFEST, install_command
from spectramind.kaggle.tools import release


class ImageError(RuntimeError):
    """The image cannot run the bundle; the message says what is wrong."""


@dataclass(frozen=True)
class RunningImage:
    """What the check reads of the image it runs on."""

    python: str  # "3.11.13"
    glibc: str  # "2.35"; "" when not glibc
    packages: dict[str, str | None]  # by canonical name; None: not installed

    @classmethod
    def here(cls, names: list[str]) -> RunningImage:
        return cls(
            platform.python_version(),
            glibc_version(),
            {name: installed_version(name) for name in names},
        )


@dataclass(frozen=True)
class Difference:
    """One way the image differs from its description, and whether it stops the run."""

    text: str
    error: bool


def read_wheelhouse_manifest(bundle: str | Path) -> dict:
    path = Path(bundle) / WHEELHOUSE / WHEELHOUSE_MANIFEST
    if not path.is_file():
        raise ImageError(f"{path}: not found: {bundle} is no SpectraMind bundle")
    return json.loads(path.read_text())


def in_range(version: str, specifier: str) -> bool | None:
    """Whether ``version`` satisfies ``specifier`` (">=1.26,<3"; "" is any); None when no
    PEP 440 implementation can be imported (pip's own copy serves: pip is on every image
    this runs on, as it installs the wheelhouse)."""
    if not specifier:
        return True
    try:
        from pip._vendor.packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover - pip vendors it
        try:
            from packaging.specifiers import SpecifierSet
        except ImportError:
            return None
    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # an invalid version string: cannot be in a range
        return False


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def compare_image(image: dict[str, Any], running: RunningImage) -> list[Difference]:
    """The differences between the described ``image`` (the manifest's ``image`` block:
    name, python, glibc, packages, ranges) and the ``running`` one."""
    differences: list[Difference] = []

    def differ(text: str, error: bool) -> None:
        differences.append(Difference(text, error))

    rebuild = "describe this image (python -m spectramind.kaggle describe-image) and rebuild"
    if _minor(running.python) != _minor(image["python"]):
        differ(
            f"Python {running.python} runs here, the wheelhouse is for Python "
            f"{_minor(image['python'])} (image {image['name']}: {image['python']}): "
            f"{rebuild} the bundle for it (kaggle.image)",
            error=True,
        )
    elif running.python != image["python"]:
        differ(f"Python {running.python} (described {image['python']}): same minor", False)
    if running.glibc and release(running.glibc) < release(image["glibc"]):
        differ(
            f"glibc {running.glibc} (described {image['glibc']}): wheels for glibc up to "
            f"{image['glibc']} may not load: {rebuild}",
            error=True,
        )
    ranges = image.get("ranges", {})
    for name, described in sorted(image["packages"].items()):
        found = running.packages.get(name)
        if found == described:
            continue
        what = f"{name} {found or 'is missing'} (described {described})"
        if name not in ranges:
            differ(f"{what}; nothing of the bundle needs it", error=False)
        elif found is None:
            differ(f"{what}, and the bundle needs it: {rebuild} (it is then shipped)", True)
        else:
            supported = f"the supported range {ranges[name] or '(any)'}"
            fits = in_range(found, ranges[name])
            if fits is None:
                differ(f"{what}: {supported} cannot be checked (no PEP 440 code)", False)
            elif fits:
                differ(f"{what}: within {supported}, used as it is", error=False)
            else:
                differ(f"{what}: outside {supported}: {rebuild}", error=True)
    return differences


def image_message(image: dict[str, Any], differences: list[Difference]) -> str:
    """One message: what differs and whether it matters."""
    described = f"image {image['name']} (Python {image['python']}, {len(image['packages'])} "
    if not differences:
        return described + "packages): as described"
    errors = sum(d.error for d in differences)
    verdict = f"{errors} difference(s) stop the run" if errors else "the differences do not matter"
    lines = [f"{'error' if d.error else 'note'}: {d.text}" for d in differences]
    return described + f"packages) differs, {verdict}:\n  - " + "\n  - ".join(lines)


def check_image(manifest: dict, running: RunningImage | None = None) -> str:
    """Check the image this runs on (or ``running``) against a wheelhouse manifest's:
    ``ImageError`` with the message when a difference matters, else the message."""
    image = manifest["image"]
    running = running or RunningImage.here(sorted(image["packages"]))
    differences = compare_image(image, running)
    message = image_message(image, differences)
    if any(d.error for d in differences):
        raise ImageError(message)
    return message


def installed_versions() -> dict[str, str]:
    """Every installed distribution's version, by canonical name (read afresh)."""
    invalidate_caches()
    return {name: d.version for name, d in installed_distributions().items()}


def replaced_packages(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The packages of ``before`` whose version changed or that are gone in ``after``."""
    return [
        f"{name} {version} -> {after.get(name, 'removed')}"
        for name, version in sorted(before.items())
        if after.get(name) != version
    ]


def install(bundle: str | Path) -> None:
    """Check the image, install the wheelhouse with the one offline pip command, and say
    whether pip replaced any package the image had."""
    print(f"image check: {check_image(read_wheelhouse_manifest(bundle))}", flush=True)
    before = installed_versions()
    command = [sys.executable, "-m", *install_command(bundle)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)
    replaced = replaced_packages(before, installed_versions())
    if replaced:
        print(
            "warning: pip replaced the image's " + ", ".join(replaced) + ": the image's "
            "description lacks them; describe it (python -m spectramind.kaggle describe-image, "
            "before the install) and rebuild the bundle so they are held",
            flush=True,
        )
    else:
        print("install: none of the image's packages replaced", flush=True)
