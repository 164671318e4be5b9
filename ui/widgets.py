"""Small Streamlit helpers shared by pages: errors as messages (never tracebacks), issues by field, formatting."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import streamlit as st

from engine.core.errors import InvalidInput, StudioError
from ui.i18n import bilingual, lang, t

STATUS_ICON = {"succeeded": ":material/check_circle:", "failed": ":material/error:", "cancelled": ":material/cancel:",
               "interrupted": ":material/warning:", "running": ":material/hourglass_top:",
               "starting": ":material/hourglass_top:", "done": ":material/check:", "cached": ":material/cached:"}
PLAIN = {"succeeded": "✓", "failed": "✗", "cancelled": "–", "interrupted": "!", "done": "✓", "cached": "↺"}


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
    """An engine error in the session's language (every engine message carries Chinese, see engine/core/i18n.py)."""
    if isinstance(exc, InvalidInput) and len(exc.issues) > 1:
        st.error(t("problems", count=len(exc.issues)) + "\n\n" + "\n".join(f"- {bilingual(i)}" for i in exc.issues))
    else:
        st.error(t("error", message=bilingual(exc)))


def issues_by_key(exc: InvalidInput, prefix: str) -> dict[str, list[str]]:
    """Issues whose path starts with `prefix.` keyed by the next path part (a field), as display text."""
    out: dict[str, list[str]] = {}
    for issue in exc.issues:
        path = issue.path or ""
        if path == prefix or path.startswith(prefix + "."):
            name = path[len(prefix) + 1:].split(".")[0].split("[")[0] or prefix
            out.setdefault(name, []).append(issue.on_screen().body(lang()))
    return out


def place_issues(exc: InvalidInput, form, prefix: str) -> None:
    """Each issue below the form field it names; the others (and ones naming no field) as messages."""
    by_field = issues_by_key(exc, prefix)
    leftover = form.show(by_field)
    others = [bilingual(i) for i in exc.issues if not (i.path or "").startswith(prefix)]
    for message in leftover + others:
        st.error(t("error", message=message))


def num(value: Any, digits: int = 3) -> str:
    """A number for people: 4 significant digits by default, '—' for none."""
    from engine.core.numbers import people

    return people(value, digits + 1)


def seconds(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "—"


def status_text(status: str | None, plain: bool = False) -> str:
    """A status with its icon: Material icons in Markdown, plain symbols where Markdown is not drawn (tables,
    select boxes)."""
    from ui.i18n import choice_label

    icon = (PLAIN if plain else STATUS_ICON).get(status or "", "")
    return f"{icon} {choice_label(status)}".strip()


def page_start() -> None:
    """Streamlit runs a pages/ file WITHOUT app.py while its legacy multipage mode is on: on the first request after
    a server start that deep-links to a page, and in every AppTest run. Then run app.py here (its sidebar and
    st.navigation, which switches that mode off and runs this page again inside) and stop this outer run: widget
    events of the run are kept (a rerun would drop a button click)."""
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__studio_app__")
        st.stop()


def pick_succeeded_run(wanted: str | None, key: str | None = None, limit: int = 100) -> str:
    """A selectbox of the succeeded runs (newest first) starting at `wanted`; stops the page when there are none."""
    from engine import api

    done = [r for r in api.runs(limit=limit) if r["status"] == "succeeded"]
    if not done:
        st.info(t("no_results"))
        st.stop()
    ids = [r["run_id"] for r in done]
    names = {r["run_id"]: r["recipe_name"] for r in done}
    return st.selectbox(t("pick_run"), ids, index=ids.index(wanted) if wanted in ids else 0, key=key,
                        format_func=lambda i: f"{i} · {names[i]}")


def localized_uploader_css(types: list[str]) -> None:
    """Streamlit draws the file uploader's button ("Upload") and size line ("200MB per file • CSV …") in English
    whatever the page language, with no parameter to change them: on zh screens CSS hides that text and shows ours."""
    if lang() == "en":
        return
    limit = st.get_option("server.maxUploadSize")
    button, note = t("uploader_button"), t("uploader_limit", mb=limit, types=", ".join(types).upper())
    st.html(f"""<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{font-size: 0}}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after
  {{content: "{button}"; font-size: 0.875rem}}
[data-testid="stFileUploaderDropzoneInstructions"] span {{font-size: 0}}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{content: "{note}"; font-size: 0.75rem}}
</style>""")
