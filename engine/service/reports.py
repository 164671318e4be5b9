"""Reports of a run: built once as pure data (engine/report), rendered to HTML or PDF in zh or en."""

from __future__ import annotations

import tempfile
from pathlib import Path

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.service.runner import load_result
from engine.service.tables import profile_table


def write_report(run_id: str, out: str | Path, *, fmt: str = "html", lang: str = "en", db=None,
                 economics: dict | None = None) -> Path:
    """The run's report (HTML or PDF, zh or en); economics = {price, volume, currency} values the uplift per year."""
    from engine import report

    if fmt not in ("html", "pdf") or lang not in ("en", "zh"):
        raise InvalidInput(Issue(Msg(f"report format '{fmt}' / language '{lang}' not available",
                                     f"不支持报告格式 '{fmt}' / 语言 '{lang}'"), hint=Msg("use html or pdf, en or zh", "请使用 html 或 pdf，en 或 zh")))
    result = load_result(run_id, db)
    binding = (result.get("data") or {}).get("binding") or {}
    profile = None
    if binding.get("table"):
        try:
            roles = result["recipe"]["content"].get("roles", {})
            profile = profile_table(binding["table"], db, target=(roles.get("target") or [None])[0],
                                    controllable=roles.get("controllable") or None)
        except InvalidInput:  # the table was dropped since: the report goes without its profile
            profile = None
    if result.get("predicted") and "sanity" not in result:  # results written before the check: judge them now
        from engine.optim.sanity import check_result

        result = {**result, "sanity": check_result(result)}
    return report.write_report(result, out, fmt, lang, profile=profile, economics=economics)


def report_html(run_id: str, *, lang: str = "en", db=None) -> str:
    """The run's report as one self-contained HTML text (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_report(run_id, Path(tmp) / "report.html", fmt="html", lang=lang, db=db)
        return path.read_text(encoding="utf-8")


def report_pdf(run_id: str, *, lang: str = "en", db=None) -> bytes:
    """The run's report as A4 PDF bytes (needs Chromium; StudioError says how to get it)."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_report(run_id, Path(tmp) / "report.pdf", fmt="pdf", lang=lang, db=db).read_bytes()
