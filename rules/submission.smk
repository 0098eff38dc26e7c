# The submission from the sigma-calibrated predictions, and (simulated data) its score.


rule submission:
    input:
        predictions="results/predictions/calibrated.nc",
        sample=top_level("sample_submission.csv"),
        stars=top_level("test_star_info.csv"),
        naive=artifact("naive_reference.json"),
        prior=artifact("prior_predictive.json"),
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
        unpack(guard_inputs),
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
            if PREDICTS_FROM_FILE
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
        **reads("score"),
    script:
        "../scripts/score.py"
