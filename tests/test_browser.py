"""The HTML outputs opened in headless Chromium: the run dashboard and Snakemake's report
(single file and zip) render offline, with no script errors and every image decoded.

Without a Chromium these tests skip, except under CI (``CI=true``), where they fail:
``.ci/setup-browser`` installs one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from browser import find_chromium, inspect_page, open_page, page_report, report_results
from matplotlib.figure import Figure
from workflow_runs import SNAKEMAKE, snakemake

from spectramind.diagnostics.dashboard import CATEGORIES, DashboardEntry, build_dashboard

# The tests driving Chromium are marked browser: make test-all (CI), not make test.

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" viewBox="0 0 120 80">'
    '<rect width="120" height="80" fill="#d9e2ec"/><circle cx="60" cy="40" r="30" '
    'fill="#2f80ed"/></svg>\n'
)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser to drive; no browser is a skip, or under CI a failure."""
    found = find_chromium()
    if found is None:
        reason = "no Chromium: set SPECTRAMIND_CHROMIUM or install chromium (.ci/setup-browser)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set and there is {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def dashboard_files(folder: Path) -> list[DashboardEntry]:
    """One entry per category, cycling through PNG, SVG, JSON and CSV files."""
    fig = Figure(figsize=(4, 3))
    fig.add_subplot().plot([0, 1, 2], [1, 3, 2])
    fig.savefig(folder / "curve.png", dpi=50)
    (folder / "shape.svg").write_text(SVG)
    score = {"score": 0.4676, "physics_fit": {"coverage_68": 0.5}, "ids": list(range(30))}
    (folder / "score.json").write_text(json.dumps(score))
    rows = "".join(f"{i},{i / 10},<b>{i}</b>\n" for i in range(60))
    (folder / "table.csv").write_text("planet_id,depth,note\n" + rows)
    files = ["curve.png", "shape.svg", "score.json", "table.csv"]
    return [
        DashboardEntry(
            name,
            f"{name} {files[i % 4]}",
            f"About {name}.\n\nA ``literal``.",
            folder / files[i % 4],
        )
        for i, name in enumerate(CATEGORIES)
    ]


@pytest.mark.browser
def test_dashboard_renders_offline_with_every_section_and_image(chromium, tmp_path):
    entries = dashboard_files(tmp_path)
    out = tmp_path / "results/diagnostics/dashboard.html"
    build_dashboard(entries[::-1], "SpectraMind V50 run", out, subtitle="seed 42")
    html = out.read_text()
    assert not re.search(r"(src|href)=\"https?:", html)
    for name in CATEGORIES:  # the nav bar links to each section
        (anchor,) = re.findall(rf'<a href="#([^"]+)">{name} <span>', html)
        assert f'<section id="{anchor}">' in html

    page = inspect_page(out, tmp_path / "results/screenshots/dashboard.png")

    assert page.errors == []
    positions = [page.text.find(f"\n{name}\n") for name in CATEGORIES]  # the <h2> headings
    assert -1 not in positions and positions == sorted(positions), positions
    figures = [e for e in entries if e.path.suffix in (".png", ".svg")]
    assert len(page.images) == len(figures)
    assert all(image.complete and image.natural_width > 0 for image in page.images)
    assert "<b>1</b>" in page.text  # CSV cells are text, not markup
    assert "10 more rows not shown (60 in all)" in page.text
    assert "physics_fit.coverage_68" in page.text  # nested JSON keys are flattened
    assert "20 more of 30" in page.text  # the long JSON list is cut
    assert page.screenshot.stat().st_size > 10_000


def test_dashboard_refuses_a_missing_file_before_writing(tmp_path):
    entries = dashboard_files(tmp_path)
    gone = DashboardEntry("Model", "Training curve", "", tmp_path / "gone.png")
    out = tmp_path / "dashboard.html"
    with pytest.raises(FileNotFoundError, match="'Model' / 'Training curve'.*gone.png"):
        build_dashboard([*entries, gone], "run", out)
    assert list(tmp_path.glob("*dashboard.html*")) == []


# A two-job workflow whose report has figures, subcategories and a download, to check
# that report_results finds every result and opens every figure.
FIGURES_WORKFLOW = """\
rule all:
    input: "out/fgs1.png", "out/airs.svg", "out/table.csv"

rule figures:
    output:
        report("out/fgs1.png", category="Light curves", subcategory="FGS1", caption="c.rst"),
        report("out/airs.svg", category="Light curves", subcategory="AIRS", caption="c.rst"),
    run:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(3, 2))
        fig.add_subplot().plot([1, 3, 2])
        for path in output:
            fig.savefig(path)

rule table:
    output: report("out/table.csv", category="Data", caption="c.rst")
    shell: "echo a,b > {output}"
"""


@pytest.mark.browser
def test_report_results_opens_every_figure_and_sees_a_broken_one(chromium, tmp_path):
    (tmp_path / "Snakefile").write_text(FIGURES_WORKFLOW)
    (tmp_path / "c.rst").write_text("A caption.\n")
    for args in (["--cores", "1"], ["--report", "report.zip"]):
        command = [SNAKEMAKE, *args]
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        archive.extractall(tmp_path / "unzipped")
    report = tmp_path / "unzipped/report/report.html"

    with open_page(report) as opened:
        results = report_results(opened.page)
    assert opened.errors == []
    found = {(r.category, r.subcategory, r.name, len(r.images)) for r in results}
    assert found == {
        ("Data", None, "out/table.csv", 0),
        ("Light curves", "AIRS", "out/airs.svg", 1),
        ("Light curves", "FGS1", "out/fgs1.png", 1),
    }
    assert all(image.natural_width > 0 for result in results for image in result.images)

    (figure,) = (tmp_path / "unzipped/report/data").rglob("fgs1.png")
    figure.unlink()
    with open_page(report) as opened:
        results = report_results(opened.page)
    assert any("fgs1.png" in error for error in opened.errors), opened.errors
    (broken,) = [image for result in results for image in result.images if "fgs1" in image.src]
    assert broken.natural_width == 0


# The run is simulated with predictor physics: every category but the model's has items.
RUN_CATEGORIES = set(CATEGORIES) - {"Model"}
RUN_FIGURES = 11  # the figures of such a run (all but the training curves): PNG items


@pytest.mark.browser
def test_dashboard_of_the_run_shows_every_category_and_figure(chromium, simulated_run):
    shot = simulated_run / "results/screenshots/dashboard.png"
    page = inspect_page(simulated_run / "results/dashboard.html", shot)
    assert page.errors == [], page.errors
    assert all(category in page.text for category in RUN_CATEGORIES)
    assert len(page.images) == RUN_FIGURES
    assert all(image.complete and image.natural_width > 0 for image in page.images), page.images
    assert shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def reports(chromium, simulated_run) -> dict[str, Path]:
    """Snakemake's report of the finished run, as one HTML file and as a zip (unpacked)."""
    built = {}
    for name in ("report.html", "report.zip"):
        result = snakemake(
            simulated_run, "--configfile", str(simulated_run / "small.yaml"), "--report", name
        )
        assert result.returncode == 0, result.stderr[-3000:]
        built[name] = simulated_run / name
    with zipfile.ZipFile(built["report.zip"]) as archive:
        archive.extractall(simulated_run / "report_zip")
    (built["report.zip"],) = (simulated_run / "report_zip").glob("*/report.html")
    return built


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["report.html", "report.zip"])
def test_snakemake_report_shows_every_category_and_image(kind, reports, simulated_run):
    shot = simulated_run / "results/screenshots" / kind.replace(".", "-")  # report-html...

    with open_page(reports[kind]) as opened:
        home = page_report(opened, shot.with_suffix(".png"))
        results = report_results(opened.page)
        shown = page_report(opened, shot.with_name(f"{shot.name}-results.png"))

    assert opened.errors == [], opened.errors
    assert "SpectraMind V50" in home.text  # the workflow description, rendered
    assert {result.category for result in results} == RUN_CATEGORIES, results
    images = [image for result in results for image in result.images]
    assert len(images) == RUN_FIGURES
    assert all(image.complete and image.natural_width > 0 for image in images), images
    assert shown.screenshot.stat().st_size > 10_000
