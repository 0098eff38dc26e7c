# Read every raw file once, checking formats: a planet whose files fail is reported and
# excluded (the inventory is a checkpoint, so nothing downstream is planned for it) instead
# of failing later.


rule check_raw:
    input:
        unpack(planet_files),
        axis=top_level("axis_info.parquet"),
    output:
        summary="results/inventory/{split}/{planet_id}.json",
        manifest="results/manifests/check_raw/{split}/{planet_id}.json",
    log:
        "results/logs/check_raw/{split}/{planet_id}.log",
    benchmark:
        "results/benchmarks/check_raw/{split}/{planet_id}.tsv"
    conda:
        "../envs/io.yaml"
    resources:
        mem_mb=check_raw_mem_mb,
        runtime=10,
    script:
        "../scripts/check_raw.py"


checkpoint inventory:
    input:
        per_planet("results/inventory/{split}/{planet_id}.json"),
    output:
        table=reported("results/inventory/inventory.csv"),
        excluded=reported("results/inventory/excluded.csv"),
        manifest="results/manifests/inventory.json",
    log:
        "results/logs/inventory.log",
    localrule: True
    conda:
        "../envs/io.yaml"
    script:
        "../scripts/inventory.py"
