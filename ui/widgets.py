"""Small Streamlit helpers shared by pages: errors as messages (never tracebacks), issues by field, formatting."""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import streamlit as st

from engine.errors import InvalidInput, StudioError
from ui.i18n import t

STATUS_ICON = {"succeeded": "✅", "failed": "❌", "cancelled": "⏹️", "interrupted": "⚠️", "running": "⏳",
               "starting": "⏳", "pending": "·", "done": "✅", "cached": "♻️"}


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Show an engine problem as a message with its fix; anything unexpected as a short message, no traceback."""
    try:
        yield
    except StudioError as exc:
        show_error(exc)
    except Exception as exc:  # noqa: BLE001 — Streamlit's own control flow is not an Exception
        st.error(t("unexpected", message=f"{type(exc).__name__}: {exc}"))


def show_error(exc: StudioError) -> None:
    if isinstance(exc, InvalidInput) and len(exc.issues) > 1:
        st.error(t("problems", count=len(exc.issues)) + "\n\n" + "\n".join(f"- {i}" for i in exc.issues))
    else:
        st.error(t("error", message=exc))


def issues_by_key(exc: InvalidInput, prefix: str) -> dict[str, list[str]]:
    """Issues whose path starts with `prefix.` keyed by the next path part (a field), as display text."""
    out: dict[str, list[str]] = {}
    for issue in exc.issues:
        path = issue.path or ""
        if path == prefix or path.startswith(prefix + "."):
            name = path[len(prefix) + 1:].split(".")[0].split("[")[0] or prefix
            text = issue.message + (f" — {issue.hint}" if issue.hint else "")
            out.setdefault(name, []).append(text)
    return out


def place_issues(exc: InvalidInput, form, prefix: str) -> None:
    """Each issue below the form field it names; the others (and ones naming no field) as messages."""
    by_field = issues_by_key(exc, prefix)
    leftover = form.show(by_field)
    others = [str(i) for i in exc.issues if not (i.path or "").startswith(prefix)]
    for message in leftover + others:
        st.error(t("error", message=message))


def num(value: Any, digits: int = 3) -> str:
    """A number for people: 4 significant digits by default, '—' for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.{digits + 1}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def status_text(status: str | None) -> str:
    from ui.i18n import choice_label

    return f"{STATUS_ICON.get(status or '', '')} {choice_label(status)}".strip()
