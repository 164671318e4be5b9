"""The studio's login: a login screen before any page, the first administrator's setup (only from the server's own
machine, only while no user exists), the signed-in user's role for pages and buttons, logout.

The session token lives in this Streamlit session only (never in a cookie or the URL a script could read): a
browser refresh opens a new session and asks for the password again; a run started before keeps running.
Every action is still checked by engine.api (engine/service/access.py): hiding a button is only a courtesy.
"""

from __future__ import annotations

import streamlit as st

from engine import api
from engine.core.errors import StudioError
from ui.i18n import bilingual, t

TOKEN = "auth_token"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def client_address() -> str | None:
    """The browser's address: 127.0.0.1 on the server itself (Streamlit reports None for a loopback connection);
    behind a reverse proxy the first X-Forwarded-For / X-Real-IP entry, so a visitor coming through the proxy
    (which connects from 127.0.0.1) never counts as the server's own machine; None when unknown (AppTest)."""
    try:
        address, headers = st.context.ip_address, st.context.headers
        forwarded = headers.get("X-Forwarded-For") or headers.get("X-Real-IP")
    except Exception:  # noqa: BLE001 — outside a browser session
        return None
    if isinstance(forwarded, str) and forwarded.strip():
        return forwarded.split(",")[0].strip() or "proxied"
    if address is None:
        return "127.0.0.1"
    return address if isinstance(address, str) else None  # AppTest hands out a mock: unknown


def server_address() -> str:
    return str(st.get_option("server.address") or "127.0.0.1")


def principal() -> api.Principal | None:
    """The signed-in user of this session (checked against the data factory on every run of the page)."""
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    try:
        return api.whoami(token, address=client_address(), via="ui")
    except api.NotAuthenticated as exc:
        st.session_state.pop(TOKEN, None)
        st.session_state["auth_notice"] = bilingual(exc)
        return None


def can(action: str) -> bool:
    who = st.session_state.get("principal")
    return bool(who and who.can(action))


def who() -> api.Principal:
    """The principal the page acts for (set by gate(); pages run only after it)."""
    return st.session_state["principal"]


def gate(pages: list | None = None) -> api.Principal:
    """The signed-in principal, or the login / first-admin screen and a stop. `pages` (the studio's st.Page list)
    are registered hidden meanwhile: no page list in the sidebar, and the address asked for (a deep link, a
    refreshed run page) is still there once signed in."""
    user = principal()
    if user is not None:
        st.session_state["principal"] = user
        return user
    st.session_state.pop("principal", None)
    if pages:
        st.navigation(pages, position="hidden")
    if server_address() not in LOOPBACK and not api.users_exist(role="admin"):
        st.error(t("auth_bind_refused", address=server_address()))
        st.code("python -m engine users add NAME --role admin --password-stdin", language="bash")
        st.stop()
    if not api.users_exist():
        _first_admin()
    else:
        _login()
    st.stop()


def _login() -> None:
    st.title(t("auth_title"))
    if st.session_state.get("auth_notice"):
        st.info(st.session_state.pop("auth_notice"))
    with st.form("login"):
        name = st.text_input(t("auth_user"), key="login_name")
        password = st.text_input(t("auth_password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth_login"), type="primary")
    if submitted:
        _sign_in(api.login, name, password)


def _sign_in(open_session, name: str, password: str) -> None:
    """Open a session (login or the first admin) and keep its token; a refusal is shown, never raised."""
    try:
        session = open_session(name.strip(), password, address=client_address(), via="ui")
    except StudioError as exc:
        st.error(bilingual(exc))
        return
    st.session_state[TOKEN] = session.token
    st.rerun()


def _first_admin() -> None:
    st.title(t("auth_setup_title"))
    if client_address() not in LOOPBACK:
        st.warning(t("auth_setup_remote"))
        st.code("python -m engine users add NAME --role admin --password-stdin", language="bash")
        return
    st.write(t("auth_setup_intro"))
    with st.form("first_admin"):
        name = st.text_input(t("auth_user"), value="admin", key="setup_name")
        password = st.text_input(t("auth_password"), type="password", key="setup_password")
        again = st.text_input(t("auth_password_again"), type="password", key="setup_again")
        submitted = st.form_submit_button(t("auth_setup_button"), type="primary")
    if submitted:
        if password != again:
            st.error(t("auth_passwords_differ"))
            return
        _sign_in(api.setup_first_admin, name, password)


def sidebar(user: api.Principal) -> None:
    """Who is signed in, with the role, and the logout button."""
    st.caption(t("auth_signed_in", user=user.name, role=bilingual(api.ROLE_LABELS.get(user.role, user.role))))
    st.button(t("auth_logout"), key="logout", icon=":material/logout:", on_click=_logout)
    with st.popover(t("auth_change_password"), icon=":material/password:"):
        with st.form("own_password", clear_on_submit=True):
            st.text_input(t("auth_current_password"), type="password", key="own_current")
            st.text_input(t("admin_new_password"), type="password", key="own_new")
            st.text_input(t("auth_password_again"), type="password", key="own_again")
            st.form_submit_button(t("admin_set_password"), on_click=_change_password)
    if st.session_state.get("own_password_error"):
        st.error(st.session_state.pop("own_password_error"))


def _change_password() -> None:
    """A callback: the current password checked by the engine; on success every session ends, this one too."""
    state = st.session_state
    if state.get("own_new") != state.get("own_again"):
        state["own_password_error"] = t("auth_passwords_differ")
        return
    try:
        api.change_own_password(state["principal"], state.get("own_current") or "", state.get("own_new") or "")
    except StudioError as exc:
        state["own_password_error"] = bilingual(exc)
        return
    for key in (TOKEN, "principal"):
        state.pop(key, None)
    state["auth_notice"] = t("auth_password_changed")


def _logout() -> None:
    """A callback (runs before the page): the session ends in the data factory, then the login screen shows."""
    api.logout(st.session_state.get(TOKEN, ""), address=client_address(), via="ui")
    for key in (TOKEN, "principal"):
        st.session_state.pop(key, None)


def refused(action: str) -> None:
    """A short note where a button is missing for this role."""
    st.caption(t("auth_needs_role", role=bilingual(api.ROLE_LABELS[api.PERMISSIONS[action]])))
