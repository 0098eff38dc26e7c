"""How good are the predicted spectra: error tables (``summary``) and figures (``figures``)
of depth predictions against the simulator's truth, and of the light-curve fits behind them."""

# What rule diagnose draws (figure stems under results/diagnostics/figures/, .png and .svg).
# Kept here, not in diagnose.py, so that the Snakefile reads it without importing matplotlib:
# every job of a run parses the Snakefile.
FIGURES = (
    "reliability",
    "pit",
    "sigma_vs_error",
    "per_bin_rmse",
    "spectra",
    "residual_heatmap",
    "calibration",
    "light_curve_fit",
)
