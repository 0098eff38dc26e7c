# Raw frames -> calibrated, time-binned xarray datasets, one per planet, instrument and visit.


rule calibrate:
    input:
        unpack(raw_visit_files),
        adc=top_level("adc_info.csv"),
        axis=top_level("axis_info.parquet"),
    output:
        dataset="results/calibrated/{split}/{planet_id}/{instrument}_{visit}.nc",
        manifest="results/manifests/calibrate/{split}/{planet_id}/{instrument}_{visit}.json",
    log:
        "results/logs/calibrate/{split}/{planet_id}/{instrument}_{visit}.log",
    benchmark:
        "results/benchmarks/calibrate/{split}/{planet_id}/{instrument}_{visit}.tsv"
    conda:
        "../envs/calibrate.yaml"
    resources:
        mem_mb=per_attempt(1500),
        runtime=10,
    params:
        options=config["calibration"],
        units=lambda wildcards, output: [job_unit(wildcards, output)],
    script:
        "../scripts/calibrate.py"
