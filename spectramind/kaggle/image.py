"""Check the Kaggle image against what the bundle was built and tested for, then install the
bundle's wheelhouse offline (standard library only: this runs before anything is installed).

The image's Python must be the wheelhouse's (its compiled wheels install on no other) and
every preinstalled package must be there: both are errors. A preinstalled package at another
version than the tested pin is used as it is and listed, so a difference in results can be
traced to it; pip refuses the install if a shipped package needs a version it lacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from spectramind.kaggle.layout import WHEELHOUSE, WHEELHOUSE_MANIFEST, install_command


class ImageError(RuntimeError):
    """The image cannot run the bundle; the message says what is wrong."""


def read_wheelhouse_manifest(bundle: str | Path) -> dict:
    path = Path(bundle) / WHEELHOUSE / WHEELHOUSE_MANIFEST
    if not path.is_file():
        raise ImageError(f"{path}: not found: {bundle} is no SpectraMind bundle")
    return json.loads(path.read_text())


def check_image(manifest: dict, python_version: str | None = None) -> list[str]:
    """Check this interpreter (its Python, or ``python_version``) and its packages against
    a wheelhouse manifest: ``ImageError`` listing every problem, else the notes on the
    preinstalled versions that differ from the tested ones."""
    running = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    problems, notes = [], []
    if running != manifest["python_version"]:
        problems.append(
            f"the image runs Python {running}, the wheelhouse is for "
            f"{manifest['python_version']}: rebuild the bundle with "
            f'kaggle.python_version: "{running}"'
        )
    for name, tested in manifest["preinstalled"].items():
        try:
            found = version(name)
        except PackageNotFoundError:
            problems.append(
                f"{name} is not installed, but kaggle.preinstalled says the image has it: "
                "remove it from that list and rebuild the bundle (it is then shipped)"
            )
            continue
        if found.split("+")[0] != tested:
            notes.append(f"{name} {found} on the image (tested with {tested})")
    if problems:
        raise ImageError("the image cannot run this bundle:\n  - " + "\n  - ".join(problems))
    return notes


def install(bundle: str | Path) -> None:
    """Check the image, then install the wheelhouse with the one offline pip command."""
    for note in check_image(read_wheelhouse_manifest(bundle)):
        print(f"note: {note}", flush=True)
    command = [sys.executable, "-m", *install_command(bundle)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)
