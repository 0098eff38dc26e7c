"""Snakemake adapter: every report item of the run in one self-contained HTML page."""

from pathlib import Path

from spectramind.core.jobs import rule_job
from spectramind.diagnostics.dashboard import DashboardEntry, build_dashboard

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
    )
