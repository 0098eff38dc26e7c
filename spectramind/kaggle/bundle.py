"""The Kaggle bundle: one folder uploaded as a Kaggle dataset, all the offline inference
notebook needs besides the competition data and the image's own packages.

    Snakefile, rules/, scripts/, spectramind/, report/, envs/, profiles/kaggle/, kaggle/
    config/config.yaml   the training run's effective config (raw_dir, artifacts_dir: Kaggle's)
    artifacts/           what inference reads of what was learned from train
    wheelhouse/          wheels the image lacks, requirements.txt, wheelhouse.json
    bundle.json          what is in it: sizes, sha256 of the artifacts, the install command
    dataset-metadata.json  for `kaggle datasets create -p <bundle> --dir-mode zip`
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from spectramind.core.atomic import atomic_directory, write_json_atomic
from spectramind.core.provenance import git_commit, sha256_file
from spectramind.kaggle.description import image_file, read_description
from spectramind.kaggle.layout import (
    ARTIFACTS,
    CONFIG,
    DATASET_METADATA,
    MANIFEST,
    WHEELHOUSE,
    install_command,
)
from spectramind.kaggle.options import KaggleOptions
from spectramind.kaggle.tools import check_build_tools
from spectramind.kaggle.wheelhouse import build_wheelhouse, copy_wheelhouse

CONFIG_HEADER = """\
# The effective config of the training run that built this bundle (kaggle_bundle): inference
# must fit with the settings its artifacts were learned with. raw_dir and artifacts_dir are
# Kaggle's; python -m spectramind.kaggle passes the actual ones on the command line.
"""


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def copy_sources(source_root: Path, files: Sequence[str | Path], dest: Path) -> None:
    """Copy the workflow's files, keeping their paths relative to ``source_root`` (both
    resolved: a job sees the workflow folder as rules/.. )."""
    root = Path(source_root).resolve()
    for file in map(Path, files):
        target = dest / file.resolve().relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)


def copy_artifacts(artifacts_dir: Path, files: Sequence[str | Path], dest: Path) -> dict[str, str]:
    """Copy the artifacts under their names relative to ``artifacts_dir``; their sha256."""
    digests = {}
    for file in map(Path, files):
        name = file.relative_to(artifacts_dir).as_posix()
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, dest / name)
        digests[name] = sha256_file(dest / name)
    return digests


def kaggle_config(
    config: Mapping[str, Any], options: KaggleOptions, image: str | None = None
) -> dict[str, Any]:
    """The run's config with the raw root and artifacts where Kaggle mounts them, and
    ``kaggle.image`` naming the bundle's copy of the image description (``image``)."""
    kaggle = {**config["kaggle"], "image": image or config["kaggle"]["image"]}
    return {
        **config,
        "raw_dir": options.competition_dir,
        "artifacts_dir": f"{options.bundle_dir}/{ARTIFACTS}",
        "kaggle": kaggle,
    }


def dataset_metadata(template: Path, options: KaggleOptions) -> dict[str, Any]:
    """kaggle/dataset-metadata.json with the configured dataset id and title."""
    metadata = json.loads(template.read_text())
    return {**metadata, "id": options.dataset_id, "title": options.dataset_title}


def build_bundle(
    dest: str | Path,
    *,
    source_root: str | Path,
    sources: Sequence[str | Path],
    artifacts_dir: str | Path,
    artifacts: Sequence[str | Path],
    config: Mapping[str, Any],
    image: str | Path | None = None,
) -> dict[str, Any]:
    """Assemble the bundle in a temporary sibling that becomes ``dest`` only when complete
    (a failed wheel download leaves no half bundle); return its manifest (bundle.json).
    ``image``: the image description's file (default: the one config ``kaggle.image``
    names)."""
    source_root, artifacts_dir = Path(source_root), Path(artifacts_dir)
    options = KaggleOptions.from_config(config["kaggle"])
    description = read_description(image or image_file(options.image, source_root))
    if not options.wheelhouse_from:
        check_build_tools()  # before anything is copied: one clear message
    with atomic_directory(dest) as tmp:
        copy_sources(source_root, sources, tmp)
        # The description the wheelhouse is built for, by name in the bundle (a path given
        # in kaggle.image would not exist on Kaggle, where the training notebook reads it).
        description_file = image_file(description.name, tmp)
        description_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image or image_file(options.image, source_root), description_file)
        with open(tmp / CONFIG, "w") as handle:
            handle.write(CONFIG_HEADER)
            bundle_config = kaggle_config(config, options, description.name)
            yaml.safe_dump(bundle_config, handle, sort_keys=False)
        digests = copy_artifacts(artifacts_dir, artifacts, tmp / ARTIFACTS)
        if options.wheelhouse_from:
            wheelhouse = copy_wheelhouse(
                options.wheelhouse_from,
                tmp / WHEELHOUSE,
                description,
                source_root / "pyproject.toml",
            )
        else:
            wheelhouse = build_wheelhouse(source_root, tmp / WHEELHOUSE, description)
        metadata = dataset_metadata(source_root / "kaggle" / DATASET_METADATA, options)
        write_json_atomic(tmp / DATASET_METADATA, metadata)
        manifest = {
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": git_commit(source_root),
            "dataset_id": options.dataset_id,
            "python_version": wheelhouse["python_version"],
            "image": {key: wheelhouse["image"][key] for key in ("name", "python", "packages")},
            "install": " ".join(["python", "-m", *install_command("<bundle>")]),
            "artifacts": digests,
            "wheels": len(wheelhouse["wheels"]),
            "wheelhouse_bytes": folder_bytes(tmp / WHEELHOUSE),
        }
        manifest["bundle_bytes"] = folder_bytes(tmp)
        write_json_atomic(tmp / MANIFEST, manifest)
    return manifest
