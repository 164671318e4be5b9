"""Administration (administrators only): users and roles, and the audit trail."""

import streamlit as st

from engine import api
from ui import auth
from ui.i18n import bilingual, t
from ui.widgets import guard, page_start

page_start()
me = auth.who()
st.title(t("admin_title"))

with guard():
    users = api.list_users(me)  # refused (and audited) for anyone but an administrator
    st.subheader(t("admin_users"))
    st.dataframe([{t("col_user"): u["name"], t("admin_role"): bilingual(api.ROLE_LABELS[u["role"]]),
                   t("col_state"): t("state_disabled") if u["disabled"] else
                   (t("state_locked") if u["locked_until"] else t("state_active")),
                   t("col_created"): f"{u['created_at']:%Y-%m-%d %H:%M}"} for u in users], hide_index=True)
    role_label = {r: bilingual(api.ROLE_LABELS[r]) for r in api.ROLES}
    left, right = st.columns(2)
    with left, st.form("add_user", clear_on_submit=True):
        st.markdown(f"**{t('admin_add_user')}**")
        name = st.text_input(t("auth_user"), key="admin_new_name")
        role = st.selectbox(t("admin_role"), list(api.ROLES), index=1, format_func=role_label.get, key="admin_new_role")
        password = st.text_input(t("auth_password"), type="password", key="admin_new_password")
        if st.form_submit_button(t("admin_add_button"), type="primary"):
            with guard():
                api.add_user(me, name.strip(), role, password)
                st.success(t("admin_added", user=name.strip(), role=role_label[role]))
    with right:
        st.markdown(f"**{t('admin_change')}**")
        names = [u["name"] for u in users]
        pick = st.selectbox(t("admin_pick_user"), names, key="admin_pick") if names else None
        if pick:
            current = next(u for u in users if u["name"] == pick)
            new_role = st.selectbox(t("admin_role"), list(api.ROLES), index=list(api.ROLES).index(current["role"]),
                                    format_func=role_label.get, key="admin_role_pick")
            c1, c2 = st.columns(2)
            if c1.button(t("admin_set_role"), key="admin_set_role"):
                with guard():
                    api.set_user_role(me, pick, new_role)
                    st.rerun()
            toggle = t("admin_enable") if current["disabled"] else t("admin_disable")
            if c2.button(toggle, key="admin_toggle"):
                with guard():
                    api.disable_user(me, pick, not current["disabled"])
                    st.rerun()
            new_password = st.text_input(t("admin_new_password"), type="password", key="admin_passwd")
            if st.button(t("admin_set_password"), key="admin_set_password", disabled=not new_password):
                with guard():
                    api.set_user_password(me, pick, new_password)
                    st.success(t("admin_done"))

    st.subheader(t("admin_audit"))
    f1, f2 = st.columns(2)
    only = f1.selectbox(t("admin_audit_user"), ["", *names], key="audit_user", format_func=lambda n: n or "—")
    since = f2.text_input(t("admin_audit_since"), value="7d", key="audit_since")
    rows = api.audit_entries(me, user=only or None, since=since.strip() or None, limit=1000)
    st.dataframe([{t("col_when"): r["at_time"][:19].replace("T", " "), t("col_user"): r["user_name"] or "—",
                   t("col_via"): r["via"], t("col_address"): r["address"], t("col_action"): r["action"],
                   t("col_object"): r["object"], t("col_result"): r["result"], t("col_detail"): r["detail"]}
                  for r in rows], hide_index=True, width="stretch")
