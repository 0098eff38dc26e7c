# Physics fit per planet, then the submission and (simulated data) its score.


rule fit:
    input:
        unpack(fit_priors),
        lightcurves="results/lightcurves/{split}/{planet_id}.nc",
        stars=top_level("{split}_star_info.csv"),
    output:
        fit="results/fit/{split}/{planet_id}.nc",
        manifest="results/manifests/fit/{split}/{planet_id}.json",
    log:
        "results/logs/fit/{split}/{planet_id}.log",
    benchmark:
        "results/benchmarks/fit/{split}/{planet_id}.tsv"
    conda:
        "../envs/fit.yaml"
    resources:
        mem_mb=per_attempt(1000),
        runtime=10,
    params:
        options=config["fit"],
        split=lambda wildcards: wildcards.split,
        units=lambda wildcards, input, output: [
            job_unit(wildcards, output, {"lightcurves": input.lightcurves})
        ],
    script:
        "../scripts/fit.py"


rule submission:
    input:
        predictions="results/predictions/calibrated.nc",
        sample=top_level("sample_submission.csv"),
        stars=top_level("test_star_info.csv"),
        naive=artifact("naive_reference.json"),
    output:
        csv=reported("results/submission/submission.csv"),
        zip="results/submission/submission.zip",
        manifest="results/manifests/submission.json",
    log:
        "results/logs/submission.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/submission.py"


rule score:
    input:
        submission="results/submission/submission.csv",
        test_lightcurves=lambda wildcards: planets_of(
            "test", "results/lightcurves/{split}/{planet_id}.nc"
        ),
        naive=artifact("naive_reference.json"),
        public_baseline=artifact("public_baseline.json"),
        test_labels=f"{TRUTH}/test_labels.csv",
        noise_floor=f"{TRUTH}/noise_floor.csv",
        marginalised_floor=f"{TRUTH}/noise_floor_marginalised.csv",
        uncalibrated=uncalibrated_predictions,
        physics_fits=lambda wildcards: (
            planets_of("test", "results/fit/{split}/{planet_id}.nc")
            if config["predictor"] == "v50"
            else []
        ),
    output:
        score=reported("results/diagnostics/score.json"),
        manifest="results/manifests/score.json",
    log:
        "results/logs/score.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    params:
        predictor=config["predictor"],
    script:
        "../scripts/score.py"
