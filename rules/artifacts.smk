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


rule public_baseline:
    input:
        lightcurves=lambda wildcards: planets_of(
            "train", "results/lightcurves/{split}/{planet_id}.nc"
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
