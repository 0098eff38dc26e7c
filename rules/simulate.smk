# Simulated raw root in the Kaggle layout (used when config raw_dir is null).


rule simulate_top_level:
    output:
        adc=top_level("adc_info.csv", SIMULATED_RAW),
        axis=top_level("axis_info.parquet", SIMULATED_RAW),
        wavelengths=top_level("wavelengths.csv", SIMULATED_RAW),
        train=top_level("train.csv", SIMULATED_RAW),
        train_stars=top_level("train_star_info.csv", SIMULATED_RAW),
        test_stars=top_level("test_star_info.csv", SIMULATED_RAW),
        sample=top_level("sample_submission.csv", SIMULATED_RAW),
        test_labels=f"{TRUTH}/test_labels.csv",
        params=f"{TRUTH}/params.csv",
        manifest="results/manifests/simulate_top_level.json",
    log:
        "results/logs/simulate_top_level.log",
    localrule: True
    conda:
        "../envs/simulate.yaml"
    params:
        **reads("simulate_top_level"),
    script:
        "../scripts/simulate_top_level.py"


rule simulate_planet:
    output:
        planet=directory(f"{SIMULATED_RAW}/{{split}}/{{planet_id}}"),
        truth=f"{TRUTH}/planets/{{split}}/{{planet_id}}.json",
        manifest="results/manifests/simulate_planet/{split}/{planet_id}.json",
    log:
        "results/logs/simulate_planet/{split}/{planet_id}.log",
    benchmark:
        "results/benchmarks/simulate_planet/{split}/{planet_id}.tsv"
    conda:
        "../envs/simulate.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=simulate_planet_runtime,
    params:
        **reads("simulate_planet"),
    script:
        "../scripts/simulate_planet.py"


rule simulate_noise_floor:
    input:
        per_planet(f"{TRUTH}/planets/{{split}}/{{planet_id}}.json"),
    output:
        table=reported(f"{TRUTH}/noise_floor.csv"),
        marginalised=reported(f"{TRUTH}/noise_floor_marginalised.csv"),
        manifest="results/manifests/simulate_noise_floor.json",
    log:
        "results/logs/simulate_noise_floor.log",
    localrule: True
    conda:
        "../envs/simulate.yaml"
    script:
        "../scripts/simulate_noise_floor.py"
