"""Snakemake adapter: the Kaggle bundle (code, config, artifacts, wheelhouse) in one folder."""

import logging
from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.kaggle.bundle import build_bundle

with rule_job(snakemake):
    manifest = build_bundle(
        snakemake.output.bundle,
        source_root=Path(snakemake.scriptdir).parent,
        sources=snakemake.input.sources,
        artifacts_dir=snakemake.params.config["artifacts_dir"],
        artifacts=snakemake.input.artifacts,
        config=snakemake.params.config,
        image=snakemake.input.image,
    )
    logging.info(
        "bundle: %.1f MB, of which the wheelhouse %.1f MB (%d wheels)",
        manifest["bundle_bytes"] / 1e6,
        manifest["wheelhouse_bytes"] / 1e6,
        manifest["wheels"],
    )
