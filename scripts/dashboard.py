"""Snakemake adapter: every report item of the run in one self-contained HTML page, headed by
how many test planets got a fallback."""

from pathlib import Path

import pandas as pd

from spectramind.core.jobs import rule_job
from spectramind.diagnostics.dashboard import DashboardEntry, build_dashboard
from spectramind.diagnostics.guards import fallback_summary

with rule_job(snakemake):
    entries = [
        DashboardEntry(category, title, Path(caption).read_text(), Path(path))
        for category, title, caption, path in snakemake.params.entries
    ]
    params = snakemake.params
    build_dashboard(
        entries,
        "SpectraMind V50 dashboard",
        Path(snakemake.output.html),
        subtitle=f"raw root {params.raw_dir or 'results/raw (simulated)'}, seed "
        f"{params.seed}, predictor {params.predictor}, sigma calibration "
        f"{params.sigma_calibration_method}",
        front=fallback_summary(pd.read_csv(snakemake.input.guards), params.predictor),
    )
