"""One self-contained HTML page of a run's figures and tables, readable offline.

Everything is inlined (figures as base64 data URIs, JSON and CSV rendered as HTML tables)
and the page is static HTML and CSS: no scripts, no external URLs, so it opens from a
copied folder, an e-mail attachment or a Kaggle output tab alike. SVGs are embedded as
``<img>`` data URIs rather than inline markup: matplotlib's SVGs reuse fixed element ids,
which would clash between inline figures, and an SVG shown as an image cannot fetch
anything.
"""

from __future__ import annotations

import base64
import csv
import errno
import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectramind.core.atomic import atomic_output

# The workflow's sections, in page order; other categories follow them in entry order. The
# guards lead: the planets most likely to cost the score.
CATEGORIES = (
    "Guards",
    "Data",
    "Calibration",
    "Light curves",
    "Physics fit",
    "Model",
    "Uncertainty",
    "Submission",
)
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
TABLE_SUFFIXES = (".json", ".csv")
MAX_TABLE_ROWS = 50  # CSV rows shown; the rest are counted in a note
MAX_TABLE_COLUMNS = 40  # CSV columns shown (a submission has 567)
MAX_LIST_ITEMS = 10  # JSON list items shown; the rest are counted in a note

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1f2933; background: #f4f6f8; }
header { padding: 1.2rem 2rem 0.6rem; background: #102a43; color: #fff; }
header h1 { margin: 0; font-size: 1.6rem; }
header p { margin: 0.3rem 0 0; color: #bcccdc; }
header p.front { color: #fff; font-weight: 600; }
nav { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 0.3rem;
      padding: 0.5rem 2rem; background: #243b53; }
nav a { color: #fff; text-decoration: none; padding: 0.2rem 0.7rem; border-radius: 4px; }
nav a:hover { background: #486581; }
nav a span { color: #9fb3c8; font-size: 0.85em; }
main { padding: 0 2rem 2rem; }
section { scroll-margin-top: 3rem; }
section h2 { margin: 1.6rem 0 0.8rem; padding-bottom: 0.2rem; border-bottom: 2px solid #d9e2ec; }
.cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); }
figure { margin: 0; padding: 1rem; background: #fff; border-radius: 6px;
         box-shadow: 0 1px 3px rgba(16, 42, 67, 0.15); min-width: 0; }
figure h3 { margin: 0 0 0.6rem; font-size: 1.05rem; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin-top: 0.6rem; color: #334e68; font-size: 0.92rem; }
figcaption p { margin: 0.4rem 0; }
.source { color: #829ab1; font-size: 0.8rem; }
.table-wrap { max-height: 32rem; overflow: auto; border: 1px solid #d9e2ec; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #e4e7eb; text-align: left;
         white-space: nowrap; }
th { background: #f0f4f8; }
thead th { position: sticky; top: 0; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #829ab1; font-style: italic; font-size: 0.85rem; margin: 0.3rem 0 0; }
code { background: #f0f4f8; padding: 0 0.2em; border-radius: 3px; }
"""


@dataclass(frozen=True)
class DashboardEntry:
    """One card: a figure (.png, .svg) or a table (.json, .csv) with its title and caption.

    The caption is plain text: blank lines separate paragraphs and ````literal```` spans
    are shown as code, as in the workflow's reStructuredText captions.
    """

    category: str
    title: str
    caption: str
    path: Path


def _slug(text: str) -> str:
    """An HTML id from a heading: lower case, runs of other characters as single dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _caption_html(caption: str) -> str:
    """Paragraphs (split on blank lines) of escaped text, ``literal`` spans as <code>."""
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", caption.strip())]
    rendered = []
    for paragraph in filter(None, paragraphs):
        text = html.escape(paragraph)
        text = re.sub(r"``(.+?)``", r"<code>\1</code>", text)
        rendered.append(f"<p>{text}</p>")
    return "".join(rendered)


def _scalar(value: Any) -> str:
    """A JSON scalar as table text: floats to 6 significant digits, null as "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _flatten(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """(dotted key, text) rows of a JSON value: nested dicts as "a.b" keys, lists of
    scalars on one row, other lists item by item ("a.0.b"); long lists are cut to
    ``MAX_LIST_ITEMS`` with a row saying how many more there are."""
    if isinstance(value, dict):
        if not value:
            yield key, "{}"
        for name, item in value.items():
            yield from _flatten(item, f"{key}.{name}" if key else str(name))
        return
    if not isinstance(value, list):
        yield key, _scalar(value)
        return
    shown, hidden = value[:MAX_LIST_ITEMS], len(value) - MAX_LIST_ITEMS
    more = f"… {hidden} more of {len(value)}" if hidden > 0 else ""
    if all(not isinstance(item, dict | list) for item in value):
        yield key, "[" + ", ".join(map(_scalar, shown)) + (f", {more}" if more else "") + "]"
        return
    for index, item in enumerate(shown):
        yield from _flatten(item, f"{key}.{index}" if key else str(index))
    if more:
        yield f"{key}.…" if key else "…", more


def _cell(text: str, tag: str = "td") -> str:
    """One table cell; numbers are right-aligned."""
    try:
        float(text)
    except ValueError:
        return f"<{tag}>{html.escape(text)}</{tag}>"
    return f'<{tag} class="number">{html.escape(text)}</{tag}>'


def _json_table(path: Path) -> str:
    rows = list(_flatten(json.loads(path.read_text(encoding="utf-8")), ""))
    body = "".join(
        f"<tr><th>{html.escape(key or '(value)')}</th>{_cell(text)}</tr>" for key, text in rows
    )
    return f'<div class="table-wrap"><table>{body}</table></div>'


def _csv_table(path: Path) -> str:
    """The header and the first ``MAX_TABLE_ROWS`` rows (``MAX_TABLE_COLUMNS`` columns),
    with notes saying how many rows and columns are not shown."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [row for _, row in zip(range(MAX_TABLE_ROWS), reader, strict=False)]
        hidden_rows = sum(1 for _ in reader)
    hidden_columns = len(header) - MAX_TABLE_COLUMNS
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header[:MAX_TABLE_COLUMNS])
    body = "".join(
        "<tr>" + "".join(_cell(text) for text in row[:MAX_TABLE_COLUMNS]) + "</tr>" for row in rows
    )
    notes = []
    if hidden_rows > 0:
        notes.append(f"{hidden_rows} more rows not shown ({len(rows) + hidden_rows} in all).")
    if hidden_columns > 0:
        notes.append(f"{hidden_columns} more columns not shown ({len(header)} in all).")
    note = f'<p class="note">{" ".join(notes)}</p>' if notes else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{table}</div>{note}'


def _content_html(entry: DashboardEntry) -> str:
    """The card's body: an <img> with a data URI, or an HTML table."""
    path = Path(entry.path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_TYPES:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        alt = html.escape(entry.title, quote=True)
        return f'<img src="data:{IMAGE_TYPES[suffix]};base64,{data}" alt="{alt}">'
    if suffix == ".json":
        return _json_table(path)
    return _csv_table(path)


def _card(entry: DashboardEntry) -> str:
    return (
        f"<figure><h3>{html.escape(entry.title)}</h3>{_content_html(entry)}"
        f"<figcaption>{_caption_html(entry.caption)}"
        f'<p class="source">{html.escape(Path(entry.path).name)}</p></figcaption></figure>'
    )


def _check(entries: Sequence[DashboardEntry]) -> None:
    """Refuse entries whose file is missing or of a kind the page cannot show, naming the
    entry and the file, before anything is read or written."""
    for entry in entries:
        path = Path(entry.path)
        name = f"dashboard entry {entry.category!r} / {entry.title!r}"
        if path.suffix.lower() not in (*IMAGE_TYPES, *TABLE_SUFFIXES):
            kinds = ", ".join((*IMAGE_TYPES, *TABLE_SUFFIXES))
            raise ValueError(f"{name}: {path}: cannot be shown (only {kinds} files can)")
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, f"{name}: no such file", str(path))


def _sections(entries: Sequence[DashboardEntry]) -> dict[str, list[DashboardEntry]]:
    """Entries by category: ``CATEGORIES`` first in their order, then any others in the
    order they first appear; entries keep their given order within a category."""
    by_category: dict[str, list[DashboardEntry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category, []).append(entry)
    order = [name for name in CATEGORIES if name in by_category]
    order += [name for name in by_category if name not in CATEGORIES]
    return {name: by_category[name] for name in order}


def dashboard_html(
    entries: Sequence[DashboardEntry], title: str, subtitle: str = "", front: str = ""
) -> str:
    """The page's HTML: a header (``front``: a line that stands out, such as how many
    planets got a fallback), a bar of links to the categories and a section of cards per
    category. Raises (``_check``) before reading anything if an entry cannot be shown."""
    _check(entries)
    sections = _sections(entries)
    links = "".join(
        f'<a href="#{_slug(name)}">{html.escape(name)} <span>{len(items)}</span></a>'
        for name, items in sections.items()
    )
    body = "".join(
        f'<section id="{_slug(name)}"><h2>{html.escape(name)}</h2>'
        f'<div class="cards">{"".join(_card(entry) for entry in items)}</div></section>'
        for name, items in sections.items()
    )
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    sub += f'<p class="front">{html.escape(front)}</p>' if front else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body><header><h1>{html.escape(title)}</h1>{sub}</header>\n"
        f"<nav>{links}</nav>\n<main>{body}</main></body></html>\n"
    )


def build_dashboard(
    entries: Sequence[DashboardEntry], title: str, out: Path, subtitle: str = "", front: str = ""
) -> None:
    """Write the dashboard of ``entries`` to ``out`` as one self-contained HTML file.

    The page is built in memory first and written atomically (a temporary sibling renamed
    on success), so a missing entry file (``FileNotFoundError`` naming the entry and the
    file) or a failed write never leaves a half-written page under ``out``.
    """
    page = dashboard_html(entries, title, subtitle, front)
    with atomic_output(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
