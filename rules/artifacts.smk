# What is learned from the train split, written to results/artifacts/. Inference reads it
# from artifacts_dir (by default this folder), so a test-only raw root with a copied
# artifacts folder never needs the train planets.


rule naive_reference:
    input:
        labels=top_level("train.csv"),
    output:
        reference=f"{BUILT_ARTIFACTS}/naive_reference.json",
        manifest="results/manifests/naive_reference.json",
    log:
        "results/logs/naive_reference.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/naive_reference.py"


rule prior_predictive:
    input:
        labels=top_level("train.csv"),
        stars=top_level("train_star_info.csv"),
    output:
        prior=f"{BUILT_ARTIFACTS}/prior_predictive.json",
        manifest="results/manifests/prior_predictive.json",
    log:
        "results/logs/prior_predictive.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    params:
        **reads("prior_predictive"),
    script:
        "../scripts/prior_predictive.py"


rule public_baseline:
    input:
        lightcurves=lambda wildcards: learning_planets(
            "results/lightcurves/{split}/{planet_id}.nc"
        ),
        labels=top_level("train.csv"),
    output:
        baseline=f"{BUILT_ARTIFACTS}/public_baseline.json",
        manifest="results/manifests/public_baseline.json",
    log:
        "results/logs/public_baseline.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/public_baseline.py"


rule limb_darkening_samples:
    input:
        lightcurves="results/lightcurves/train/{planet_id}.nc",
        stars=top_level("train_star_info.csv"),
        labels=top_level("train.csv"),
    output:
        samples="results/limb_darkening/train/{planet_id}.csv",
        manifest="results/manifests/limb_darkening_samples/{planet_id}.json",
    log:
        "results/logs/limb_darkening_samples/{planet_id}.log",
    benchmark:
        "results/benchmarks/limb_darkening_samples/{planet_id}.tsv"
    conda:
        "../envs/fit.yaml"
    resources:
        mem_mb=per_attempt(1000),
        runtime=10,
    params:
        **reads("limb_darkening_samples"),
    script:
        "../scripts/limb_darkening_samples.py"


rule limb_darkening_prior:
    input:
        samples=lambda wildcards: learning_planets(
            "results/limb_darkening/{split}/{planet_id}.csv"
        ),
    output:
        prior=f"{BUILT_ARTIFACTS}/limb_darkening_prior.json",
        manifest="results/manifests/limb_darkening_prior.json",
    log:
        "results/logs/limb_darkening_prior.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    script:
        "../scripts/limb_darkening_prior.py"


rule spectral_prior:
    input:
        labels=top_level("train.csv"),
        wavelengths=top_level("wavelengths.csv"),
    output:
        prior=f"{BUILT_ARTIFACTS}/spectral_prior.json",
        manifest="results/manifests/spectral_prior.json",
    log:
        "results/logs/spectral_prior.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    params:
        **reads("spectral_prior"),
    script:
        "../scripts/spectral_prior.py"


rule white_light_error_scale:
    input:
        lightcurves=lambda wildcards: learning_planets(
            "results/lightcurves/{split}/{planet_id}.nc"
        ),
        stars=top_level("train_star_info.csv"),
        labels=top_level("train.csv"),
        limb_darkening_prior=lambda wildcards: (
            [artifact("limb_darkening_prior.json")(wildcards)]
            if config["fit"]["limb_darkening_prior"]
            else []
        ),
    output:
        error_scale=f"{BUILT_ARTIFACTS}/white_light_error_scale.json",
        manifest="results/manifests/white_light_error_scale.json",
    log:
        "results/logs/white_light_error_scale.log",
    localrule: True
    conda:
        "../envs/fit.yaml"
    params:
        **reads("white_light_error_scale"),
    script:
        "../scripts/white_light_error_scale.py"
