"""Template gallery: one card per template, grouped by scenario: what it needs, what it gives."""

import streamlit as st

from engine import api
from ui.i18n import bilingual, choice_label, t
from ui.widgets import guard, page_start

page_start()

st.title(t("gallery_title"))
st.caption(t("gallery_intro"))


def role_line(name: str, spec) -> str:
    label = bilingual(spec.label) or choice_label(name)
    kinds = "/".join(choice_label(d) for d in spec.dtypes)
    need = t("role_required") if spec.required else t("role_optional")
    count = t("role_at_most", n=spec.max) if spec.max else ""
    return f"- **{label}** · {need} · {kinds} {count}".rstrip()


with guard():
    library = api.library()
    templates = library.latest()
    scenarios: dict[str, list] = {}
    for tpl in templates:
        scenarios.setdefault(tpl.scenario, []).append(tpl)
    if not templates:
        st.info(t("no_templates"))
    for scenario, group in sorted(scenarios.items()):
        st.subheader(choice_label(scenario, "scenario"))
        cols = st.columns(min(len(group), 3))
        for i, tpl in enumerate(group):
            with cols[i % len(cols)].container(border=True):
                st.markdown(f"#### {bilingual(tpl.title)}")
                industries = ", ".join(choice_label(x, "industry") for x in tpl.industries)
                older = [v for v in reversed(library.versions(tpl.id)) if v != tpl.version]
                st.caption(f"`{tpl.id}@{tpl.version}`" + (f" · {industries}" if industries else "")
                           + (f" · {t('older_versions', versions=', '.join(older))}" if older else ""))
                st.write(bilingual(tpl.description))
                st.markdown(f"**{t('needs')}**\n\n" + "\n".join(role_line(n, s) for n, s in tpl.roles.items()
                                                                 if n != "ignore"))
                if tpl.gives:
                    st.markdown(f"**{t('gives')}** {bilingual(tpl.gives)}")
                st.caption(t("n_params", n=len(tpl.params), steps=len(tpl.steps)))
                if st.button(t("use_template"), key=f"use_{tpl.id}", type="primary"):
                    st.session_state["build_template"] = tpl.id
                    st.switch_page("pages/build.py")
    if library.broken:
        with st.expander(t("broken_templates", n=len(library.broken))):
            for path, issues in library.broken.items():
                st.error(f"{path}\n\n" + "\n".join(f"- {bilingual(i)}" for i in issues))
