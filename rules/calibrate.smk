# Raw frames -> calibrated, time-binned xarray datasets, one per planet, instrument and visit.


rule calibrate:
    input:
        planet=raw_planet_dir,
        axis=raw_axis_info,
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
        mem_mb=1500,
        runtime=10,
    params:
        options=config["calibration"],
    script:
        "../scripts/calibrate.py"
