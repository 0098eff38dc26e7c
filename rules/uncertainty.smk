# Sigma calibration: fitted on validation planets of the configured predictor (train planets
# it never trained on, truth known), kept as an artifact, applied to the test predictions.
# Predictor auto picks the physics fit or V50 by their out-of-fold scores on those planets.


rule physics_validation:
    input:
        fits=lambda wildcards: learning_planets("results/fit/{split}/{planet_id}.nc"),
        labels=top_level("train.csv"),
        wavelengths=top_level("wavelengths.csv"),
    output:
        validation="results/validation/physics.nc",
        manifest="results/manifests/physics_validation.json",
    log:
        "results/logs/physics_validation.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    params:
        **reads("physics_validation"),
    script:
        "../scripts/physics_validation.py"


rule calibrate_sigma:
    input:
        validation=validation_predictions,
        wavelengths=top_level("wavelengths.csv"),
        naive=artifact("naive_reference.json"),
    output:
        calibration=f"{BUILT_ARTIFACTS}/sigma_calibration.json",
        manifest="results/manifests/calibrate_sigma.json",
    log:
        "results/logs/calibrate_sigma.log",
    conda:
        "../envs/model.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=30,
    params:
        **reads("calibrate_sigma"),
    script:
        "../scripts/calibrate_sigma.py"


rule apply_sigma_calibration:
    input:
        predictions=uncalibrated_predictions,
        calibration=artifact("sigma_calibration.json"),
    output:
        predictions="results/predictions/calibrated.nc",
        manifest="results/manifests/apply_sigma_calibration.json",
    log:
        "results/logs/apply_sigma_calibration.log",
    localrule: True
    conda:
        "../envs/model.yaml"
    params:
        **reads("apply_sigma_calibration"),
    script:
        "../scripts/apply_sigma_calibration.py"


rule calibrate_validation:
    input:
        validation=f"results/validation/{config['predictor']}.nc",
        calibration=artifact("sigma_calibration.json"),
    output:
        validation="results/validation/calibrated.nc",
        manifest="results/manifests/calibrate_validation.json",
    log:
        "results/logs/calibrate_validation.log",
    localrule: True
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/calibrate_validation.py"


rule choose_predictor:
    input:
        physics="results/validation/physics.nc",
        v50="results/validation/v50.nc",
        naive=artifact("naive_reference.json"),
    output:
        choice=f"{BUILT_ARTIFACTS}/predictor_choice.json",
        validation="results/validation/auto.nc",
        manifest="results/manifests/choose_predictor.json",
    log:
        "results/logs/choose_predictor.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/choose_predictor.py"


rule auto_predictions:
    input:
        choice=artifact("predictor_choice.json"),
        v50="results/predictions/v50.nc",
        fits=lambda wildcards: planets_of("test", "results/fit/{split}/{planet_id}.nc"),
    output:
        predictions="results/predictions/auto.nc",
        manifest="results/manifests/auto_predictions.json",
    log:
        "results/logs/auto_predictions.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/auto_predictions.py"
