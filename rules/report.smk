# Every file shown in `snakemake --report` and in the dashboard (results/dashboard.html):
# its caption (report/<caption>.rst), category (spectramind.diagnostics.dashboard's
# CATEGORIES), title, and when a run makes it.

REPORT_ITEMS = {
    "results/diagnostics/guard_counts.csv": (
        "guard_counts",
        "Guards",
        "Planets per guard state and predictor",
        "always",
    ),
    "results/diagnostics/worst_planets.csv": (
        "worst_planets",
        "Guards",
        "Worst planets",
        "always",
    ),
    "results/diagnostics/guards.csv": (
        "guards",
        "Guards",
        "Guard table",
        "always",
    ),
    "results/diagnostics/figures/raw_frames.png": (
        "raw_frames",
        "Data",
        "Raw frames",
        "always",
    ),
    "results/inventory/inventory.csv": (
        "inventory",
        "Data",
        "Raw data inventory",
        "check_raw",
    ),
    "results/inventory/excluded.csv": (
        "excluded",
        "Data",
        "Excluded planets",
        "check_raw",
    ),
    f"{TRUTH}/noise_floor.csv": (
        "noise_floor",
        "Data",
        "Noise floor (depth only)",
        "simulated",
    ),
    f"{TRUTH}/noise_floor_marginalised.csv": (
        "noise_floor",
        "Data",
        "Noise floor (marginalised)",
        "simulated",
    ),
    "results/diagnostics/figures/calibrated_frames.png": (
        "calibrated_frames",
        "Calibration",
        "Calibrated frames",
        "always",
    ),
    "results/diagnostics/figures/light_curve_fit.png": (
        "light_curve_fit",
        "Light curves",
        "White-light fit",
        "simulated",
    ),
    "results/diagnostics/figures/per_bin_rmse.png": (
        "per_bin_rmse",
        "Physics fit",
        "Per-bin RMSE and floors",
        "simulated",
    ),
    "results/diagnostics/figures/spectra.png": (
        "spectra",
        "Physics fit",
        "Example spectra",
        "simulated",
    ),
    "results/diagnostics/per_bin.csv": (
        "per_bin",
        "Physics fit",
        "Per-bin errors",
        "simulated",
    ),
    "results/diagnostics/figures/training.png": (
        "training",
        "Model",
        "Training curves",
        "v50",
    ),
    "results/diagnostics/figures/reliability.png": (
        "reliability",
        "Uncertainty",
        "Reliability diagram",
        "simulated",
    ),
    "results/diagnostics/figures/pit.png": (
        "pit",
        "Uncertainty",
        "PIT histogram",
        "simulated",
    ),
    "results/diagnostics/figures/sigma_vs_error.png": (
        "sigma_vs_error",
        "Uncertainty",
        "Sigma against error",
        "simulated",
    ),
    "results/diagnostics/figures/residual_heatmap.png": (
        "residual_heatmap",
        "Uncertainty",
        "Residual heat map",
        "simulated",
    ),
    "results/diagnostics/figures/calibration.png": (
        "calibration",
        "Uncertainty",
        "Sigma calibration",
        "simulated",
    ),
    "results/diagnostics/error_summary.json": (
        "error_summary",
        "Uncertainty",
        "Error summary",
        "simulated",
    ),
    "results/diagnostics/figures/inject_recover.png": (
        "inject_recover",
        "Uncertainty",
        "Inject and recover",
        "simulated",
    ),
    "results/diagnostics/inject_recover.json": (
        "inject_recover_table",
        "Uncertainty",
        "Inject-and-recover table",
        "simulated",
    ),
    "results/submission/submission.csv": (
        "submission",
        "Submission",
        "Submission",
        "always",
    ),
    "results/diagnostics/score.json": ("score", "Submission", "Score", "simulated"),
}


def reported(path):
    """``path`` as a report() output, with its caption and category from REPORT_ITEMS."""
    caption, category, _, _ = REPORT_ITEMS[path]
    return report(path, caption=f"../report/{caption}.rst", category=category)


def report_items(wildcards=None):
    """The REPORT_ITEMS paths this run makes (its config and data decide which)."""
    made = {
        "always": True,
        "check_raw": config["check_raw"],
        "simulated": SIMULATING,
        "v50": PREDICTS_FROM_FILE and has_split("train"),
    }
    return [path for path, item in REPORT_ITEMS.items() if made[item[3]]]
