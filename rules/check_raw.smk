# Read every raw file once, checking formats, so a broken root fails early and by name.


rule check_raw:
    input:
        planet=raw_planet_dir,
        axis=raw_axis_info,
    output:
        summary="results/inventory/{split}/{planet_id}.json",
        manifest="results/manifests/check_raw/{split}/{planet_id}.json",
    log:
        "results/logs/check_raw/{split}/{planet_id}.log",
    conda:
        "../envs/io.yaml"
    resources:
        mem_mb=check_raw_mem_mb,
        runtime=10,
    script:
        "../scripts/check_raw.py"


rule inventory:
    input:
        per_planet("results/inventory/{split}/{planet_id}.json"),
    output:
        table=report(
            "results/inventory/inventory.csv",
            caption="../report/inventory.rst",
            category="Raw data",
        ),
        manifest="results/manifests/inventory.json",
    log:
        "results/logs/inventory.log",
    localrule: True
    conda:
        "../envs/io.yaml"
    script:
        "../scripts/inventory.py"
