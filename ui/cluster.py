"""The Run page's cluster field: where the heavy steps of runs started in this browser session compute."""

from __future__ import annotations

import streamlit as st

from engine import api
from engine.core.errors import InvalidInput
from ui.i18n import lang, t

_KEY = "run_cluster"          # the checked value ('' = this server); absent until the field is changed
_FIELD = "run_cluster_field"  # the text as typed


def run_cluster() -> str | None:
    """The cluster for a run started now: the field's checked value, or None (the AI_STUDIO_CLUSTER setting)."""
    return st.session_state.get(_KEY)


def cluster_field() -> None:
    """A text field (local:N or tcp://HOST:8786; empty: this server), checked as typed; a bad value says why."""
    if _FIELD not in st.session_state:
        st.session_state[_FIELD] = st.session_state.get(_KEY, api.cluster_setting())
    typed = st.text_input(t("cluster_field"), key=_FIELD, help=t("cluster_help"),
                          placeholder="local:2 · tcp://HOST:8786")
    try:
        label = api.check_cluster(typed)
    except InvalidInput as exc:
        st.error("\n\n".join(issue.text(lang()) for issue in exc.issues))
        st.session_state[_KEY] = typed  # a run started now is refused with the same message, never run elsewhere
        return
    st.session_state[_KEY] = label or ""
    st.caption(t("cluster_using", cluster=label) if label else t("cluster_here"))
