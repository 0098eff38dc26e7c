# The V50 model: trained on the train planets' light curves and fits (global), then
# predicting every test planet in one process (torch loaded once).


rule train:
    input:
        lightcurves=lambda wildcards: learning_planets(
            "results/lightcurves/{split}/{planet_id}.nc"
        ),
        fits=lambda wildcards: learning_planets("results/fit/{split}/{planet_id}.nc"),
        stars=top_level("train_star_info.csv"),
        labels=top_level("train.csv"),
        wavelengths=top_level("wavelengths.csv"),
        naive=artifact("naive_reference.json"),
    output:
        checkpoint=f"{BUILT_ARTIFACTS}/model/checkpoint.pt",
        metrics="results/model/train_metrics.json",
        validation="results/validation/v50.nc",
        manifest="results/manifests/train.json",
    log:
        "results/logs/train.log",
    benchmark:
        "results/benchmarks/train.tsv"
    conda:
        "../envs/model.yaml"
    threads: 8  # capped at --cores
    resources:
        mem_mb=per_attempt(4000),
        runtime=240,
    params:
        **reads("train"),
    script:
        "../scripts/train.py"


rule predict:
    input:
        checkpoint=artifact("model/checkpoint.pt"),
        lightcurves=lambda wildcards: planets_of(
            "test", "results/lightcurves/{split}/{planet_id}.nc"
        ),
        fits=lambda wildcards: planets_of("test", "results/fit/{split}/{planet_id}.nc"),
        stars=top_level("test_star_info.csv"),
    output:
        predictions="results/predictions/v50.nc",
        manifest="results/manifests/predict.json",
    log:
        "results/logs/predict.log",
    conda:
        "../envs/model.yaml"
    threads: 8  # capped at --cores
    resources:
        mem_mb=per_attempt(4000),
        runtime=60,
    params:
        **reads("predict"),
    script:
        "../scripts/predict.py"
