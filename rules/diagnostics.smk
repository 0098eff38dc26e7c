# Diagnostics of the submitted predictions on planets with known truth: error tables and
# figures, every one a report() item with a caption in report/.

from spectramind.diagnostics import FIGURES as DIAGNOSTIC_FIGURES


rule diagnose:
    input:
        unpack(diagnose_inputs),
        calibration=artifact("sigma_calibration.json"),
        naive=artifact("naive_reference.json"),
        wavelengths=top_level("wavelengths.csv"),
    output:
        summary=reported("results/diagnostics/error_summary.json"),
        per_bin=reported("results/diagnostics/per_bin.csv"),
        reliability=reported("results/diagnostics/figures/reliability.png"),
        pit=reported("results/diagnostics/figures/pit.png"),
        sigma_vs_error=reported("results/diagnostics/figures/sigma_vs_error.png"),
        residual_heatmap=reported("results/diagnostics/figures/residual_heatmap.png"),
        calibration=reported("results/diagnostics/figures/calibration.png"),
        per_bin_rmse=reported("results/diagnostics/figures/per_bin_rmse.png"),
        spectra=reported("results/diagnostics/figures/spectra.png"),
        light_curve_fit=reported("results/diagnostics/figures/light_curve_fit.png"),
        svg=expand("results/diagnostics/figures/{stem}.svg", stem=DIAGNOSTIC_FIGURES),
        manifest="results/manifests/diagnose.json",
    log:
        "results/logs/diagnose.log",
    localrule: True
    conda:
        "../envs/diagnostics.yaml"
    params:
        **reads("diagnose"),
    script:
        "../scripts/diagnose.py"


rule training_curves:
    input:
        metrics="results/model/train_metrics.json",
    output:
        figure=reported("results/diagnostics/figures/training.png"),
        svg="results/diagnostics/figures/training.svg",
        manifest="results/manifests/training_curves.json",
    log:
        "results/logs/training_curves.log",
    localrule: True
    conda:
        "../envs/diagnostics.yaml"
    script:
        "../scripts/training_curves.py"


rule frame_figures:
    input:
        raw_planet=lambda wildcards: raw_planet_dir("test", example_planet()),
        adc=top_level("adc_info.csv"),
        axis=top_level("axis_info.parquet"),
        calibrated=example_calibrated,
    output:
        raw=reported("results/diagnostics/figures/raw_frames.png"),
        calibrated=reported("results/diagnostics/figures/calibrated_frames.png"),
        svg=expand(
            "results/diagnostics/figures/{stem}.svg",
            stem=("raw_frames", "calibrated_frames"),
        ),
        manifest="results/manifests/frame_figures.json",
    log:
        "results/logs/frame_figures.log",
    localrule: True
    conda:
        "../envs/diagnostics.yaml"
    script:
        "../scripts/frame_figures.py"


rule inject_recover:
    input:
        unpack(fit_priors),
    output:
        json=reported("results/diagnostics/inject_recover.json"),
        figure=reported("results/diagnostics/figures/inject_recover.png"),
        svg="results/diagnostics/figures/inject_recover.svg",
        manifest="results/manifests/inject_recover.json",
    log:
        "results/logs/inject_recover.log",
    benchmark:
        "results/benchmarks/inject_recover.tsv"
    conda:
        "../envs/inject_recover.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=60,
    params:
        **reads("inject_recover"),
    script:
        "../scripts/inject_recover.py"


rule guards:
    input:
        unpack(guard_inputs),
        score=lambda wildcards: (
            ["results/diagnostics/score.json"] if SIMULATING else []
        ),
    output:
        table=reported("results/diagnostics/guards.csv"),
        counts=reported("results/diagnostics/guard_counts.csv"),
        worst=reported("results/diagnostics/worst_planets.csv"),
        manifest="results/manifests/guards.json",
    log:
        "results/logs/guards.log",
    localrule: True
    conda:
        "../envs/diagnostics.yaml"
    params:
        **reads("guards"),
    script:
        "../scripts/guards.py"


rule dashboard:
    input:
        shown=report_items,
        guards="results/diagnostics/guards.csv",
    output:
        html="results/dashboard.html",
        manifest="results/manifests/dashboard.json",
    log:
        "results/logs/dashboard.log",
    localrule: True
    conda:
        "../envs/diagnostics.yaml"
    params:
        **reads("dashboard"),
        entries=lambda wildcards, input: [
            (REPORT_ITEMS[path][1], REPORT_ITEMS[path][2], caption_file(path), path)
            for path in input.shown
        ],
    script:
        "../scripts/dashboard.py"
