"""Reports a plant manager reads: computed once as pure data from a run, rendered to HTML or PDF."""

from __future__ import annotations

from pathlib import Path

from engine.report.html import render_html
from engine.report.model import build_report
from engine.report.pdf import html_to_pdf


def write_report(result: dict, out: str | Path, fmt: str = "html", lang: str = "en", *, profile: dict | None = None,
                 economics: dict | None = None) -> Path:
    """Write the report of a run (its result.json dict) as HTML or PDF; returns the file written."""
    out = Path(out)
    text = render_html(build_report(result, lang, profile=profile, economics=economics))
    if fmt == "pdf":
        return html_to_pdf(text, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


__all__ = ["build_report", "html_to_pdf", "render_html", "write_report"]
