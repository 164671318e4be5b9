"""AI Studio — Streamlit entry: language switch, login, and navigation over the pages the user's role may see."""

from pathlib import Path

import streamlit as st

from ui import auth
from ui.i18n import LANGS, keep_lang_in_url, lang, t

# a local image, served by this server: a ":material/…:" icon makes the browser fetch the favicon from a font CDN,
# which an offline plant network refuses on every page (tests/ui/test_firsthour_browser.py checks no request leaves)
ICON = Path(__file__).resolve().parent / "ui" / "assets" / "favicon.png"
st.set_page_config(page_title="AI Studio · AI 创作间", page_icon=str(ICON), layout="wide")


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
         ("pages/template_studio.py", "nav_template_studio", ":material/edit_note:"),
         ("pages/admin.py", "nav_admin", ":material/admin_panel_settings:")]
ROLE_PAGES = {"pages/template_studio.py": "templates.dry_run", "pages/admin.py": "users.manage"}  # others: every role
pages = {path: st.Page(path, title=t(key), icon=icon, default=(key == "home")) for path, key, icon in PAGES}
user = auth.gate(list(pages.values()))  # the login screen (or the first administrator's setup) until signed in
with st.sidebar:
    auth.sidebar(user)
page = st.navigation([p for path, p in pages.items() if user.can(ROLE_PAGES.get(path, "runs.read"))])
page.run()
