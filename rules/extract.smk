# Calibrated datasets -> per-planet light curves (283 channels) with jitter regressors.


rule extract:
    input:
        unpack(calibrated_files),
        wavelengths=top_level("wavelengths.csv"),
    output:
        lightcurves="results/lightcurves/{split}/{planet_id}.nc",
        manifest="results/manifests/extract/{split}/{planet_id}.json",
    log:
        "results/logs/extract/{split}/{planet_id}.log",
    benchmark:
        "results/benchmarks/extract/{split}/{planet_id}.tsv"
    conda:
        "../envs/calibrate.yaml"
    resources:
        mem_mb=per_attempt(1000),
        runtime=5,
    params:
        options=config["extraction"],
        units=lambda wildcards, input, output: [
            job_unit(wildcards, output, {ins: list(input[ins]) for ins in INSTRUMENTS})
        ],
    script:
        "../scripts/extract.py"
