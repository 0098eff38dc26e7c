"""The documentation: every relative link in README.md and docs/*.md resolves (file and
#anchor), the README stays a page, and the workflow figure (docs/rulegraph.dot, its
rendering docs/rulegraph.svg and the copy shown in the report's front text
report/workflow.rst) is the rule graph of the workflow as it is now
(spectramind.workflow.rulegraph makes them: make rulegraph).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spectramind.workflow import rulegraph
from spectramind.workflow.rulegraph import (
    canonical_rulegraph,
    current_rulegraph,
    dot_graph,
    svg_graph,
    workflow_rst_with,
)

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
README_MAX_LINES = 260
RULEGRAPH_DOT = REPO / rulegraph.DOT
RULEGRAPH_SVG = REPO / rulegraph.SVG
WORKFLOW_RST = REPO / rulegraph.WORKFLOW_RST

# --- links ---------------------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+\1")
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")  # http:, mailto:, ...


def _prose_lines(text: str):
    """(line number, line) of the markdown outside fenced code blocks."""
    fenced = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            if fenced is None:
                fenced = fence.group(1)
            elif fence.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            yield number, line


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link and image in markdown ``text``: inline
    ``[text](target)``, reference definitions ``[name]: target`` and HTML href/src."""
    found = []
    for number, line in _prose_lines(text):
        line = INLINE_CODE.sub("", line)
        for pattern in (MD_LINK, REFERENCE, HTML_LINK):
            found += [(number, match.group(1)) for match in pattern.finditer(line)]
    return found


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lower case, punctuation removed
    (but ``-`` and ``_``), spaces to ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of markdown ``text`` (a repeated one also as anchor-1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(text):
        heading = HEADING.match(line)
        if heading:
            anchor = github_anchor(heading.group(1))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            found.add(anchor if count == 0 else f"{anchor}-{count}")
    found |= set(re.findall(r"""<a\s+(?:name|id)=["']([^"']+)["']""", text))
    return found


def broken_links(document: Path) -> list[str]:
    """The relative links of ``document`` whose file, or #anchor in a markdown file, does
    not exist: "line N: target (why)"."""
    problems = []
    for number, target in links(document.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists():
            problems.append(f"line {number}: {target} (no such file)")
        elif anchor and resolved.suffix == ".md":
            if anchor not in anchors(resolved.read_text(encoding="utf-8")):
                problems.append(f"line {number}: {target} (no such heading)")
    return problems


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda path: path.name)
def test_relative_links_resolve(document):
    assert broken_links(document) == [], f"broken links in {document.relative_to(REPO)}"


def test_readme_is_a_page():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail to docs/"


def test_link_checker_sees_broken_links_and_anchors(tmp_path):
    (tmp_path / "other.md").write_text("# Other doc\n\n## A `code` heading: yes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md) [ok](other.md#a-code-heading-yes) [ok](#page) [web](https://x.org/y)\n"
        "[gone](missing.md) ![img](missing.svg) [bad anchor](other.md#nope) [self](#nope)\n"
        "`[in code](missing-too.md)`\n\n```\n[in a fence](missing-too.md)\n```\n"
        '[ref]: missing-ref.md\n<img src="missing.png">\n'
    )
    assert broken_links(page) == [
        "line 4: missing.md (no such file)",
        "line 4: missing.svg (no such file)",
        "line 4: other.md#nope (no such heading)",
        "line 4: #nope (no such heading)",
        "line 10: missing-ref.md (no such file)",
        "line 11: missing.png (no such file)",
    ]


# --- the rule graph ------------------------------------------------------------------------


def test_rulegraph_dot_is_the_workflows_rule_graph():
    assert RULEGRAPH_DOT.read_text(encoding="utf-8") == current_rulegraph(REPO), (
        "docs/rulegraph.dot is stale: run make rulegraph (needs graphviz) and commit "
        "docs/rulegraph.dot, docs/rulegraph.svg and report/workflow.rst"
    )


def test_rulegraph_svg_is_drawn_from_the_dot():
    rules, edges = dot_graph(RULEGRAPH_DOT.read_text(encoding="utf-8"))
    # the stages of the workflow are in it, joined (an empty parse would match anything)
    assert {"calibrate", "extract", "fit", "train", "submission"} <= set(rules) and edges > 20
    assert svg_graph(RULEGRAPH_SVG.read_text(encoding="utf-8")) == (rules, edges), (
        "docs/rulegraph.svg is not docs/rulegraph.dot drawn: run make rulegraph"
    )


def test_report_front_text_shows_the_rulegraph_svg():
    svg = RULEGRAPH_SVG.read_text(encoding="utf-8")
    rst = WORKFLOW_RST.read_text(encoding="utf-8")
    assert rst == workflow_rst_with(rst, svg), (
        "report/workflow.rst does not show docs/rulegraph.svg: run make rulegraph"
    )


def test_canonical_rulegraph_ignores_snakemakes_order():
    head = "noise\ndigraph g {\n    graph[x];  \n"
    first = head + '\t0[label = "b", c];\n\t1[label = "a", c]; \n\t1 -> 0\n\t1 -> 0\n}  \n'
    second = head + '\t5[label = "a", c];\n\t2[label = "b", c];\n\t5 -> 2\n}\nnoise\n'
    canonical = (
        'digraph g {\n    graph[x];\n\t0[label = "a", c];\n\t1[label = "b", c];\n\t0 -> 1\n}\n'
    )
    assert canonical_rulegraph(first) == canonical_rulegraph(second) == canonical
    with pytest.raises(ValueError, match="unexpected line"):
        canonical_rulegraph(head + '\t0[label = "a", c];\n\tsubgraph x\n}\n')
