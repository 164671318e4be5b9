"""AI Studio — Streamlit entry: navigation and language switch, nothing else."""

import streamlit as st

from ui.i18n import LANGS, keep_lang_in_url, lang, t

st.set_page_config(page_title="AI Studio · AI 创作间", page_icon=":material/factory:", layout="wide")


def _set_lang() -> None:
    st.session_state["lang"] = st.session_state["_lang_choice"]


with st.sidebar:
    st.selectbox(t("language"), list(LANGS), index=list(LANGS).index(lang()), format_func=LANGS.get,
                 key="_lang_choice", on_change=_set_lang)
keep_lang_in_url()

PAGES = [("pages/home.py", "home", ":material/home:"), ("pages/data.py", "nav_data", ":material/database:"),
         ("pages/gallery.py", "nav_gallery", ":material/widgets:"), ("pages/build.py", "nav_build", ":material/build:"),
         ("pages/run.py", "nav_run", ":material/play_circle:"),
         ("pages/results.py", "nav_results", ":material/insights:"),
         ("pages/trials.py", "nav_trials", ":material/science:"),
         ("pages/monitor.py", "nav_monitor", ":material/monitor_heart:"),
         ("pages/history.py", "nav_history", ":material/history:"),
         ("pages/template_studio.py", "nav_template_studio", ":material/edit_note:")]
page = st.navigation([st.Page(path, title=t(key), icon=icon, default=(key == "home")) for path, key, icon in PAGES])
page.run()
