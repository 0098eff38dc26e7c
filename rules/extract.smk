# Calibrated datasets -> per-planet light curves (283 channels) with jitter regressors.


rule extract:
    input:
        unpack(calibrated_files),
        wavelengths=f"{RAW}/wavelengths.csv",
    output:
        lightcurves="results/lightcurves/{split}/{planet_id}.nc",
        manifest="results/manifests/extract/{split}/{planet_id}.json",
    log:
        "results/logs/extract/{split}/{planet_id}.log",
    conda:
        "../envs/calibrate.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        options=config["extraction"],
    script:
        "../scripts/extract.py"
