"""The semver rule and the diff between two template versions (pure functions of two Template objects)."""

from pathlib import Path

import pytest
import yaml

from engine.schema.template import Template
from engine.pipeline.versions import bump_of, check_version, diff_templates, next_version

REPO = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((REPO / "templates" / "quick_model" / "1.0.0.yaml").read_text(encoding="utf-8"))  # a fixed base


def variant(version: str = "1.0.0", edit=None) -> Template:
    data = yaml.safe_load(yaml.safe_dump(BASE, allow_unicode=True))
    data["version"] = version
    if edit:
        edit(data)
    return Template.model_validate(data)


def test_bump_of_and_next_version():
    assert bump_of("1.2.3", "2.0.0") == "major"
    assert bump_of("1.2.3", "1.3.0") == "minor"
    assert bump_of("1.2.3", "1.2.4") == "patch"
    assert bump_of("1.2.3", "1.2.3") is None and bump_of("1.2.3", "1.1.9") is None
    assert next_version("1.2.3", "major") == "2.0.0"
    assert next_version("1.2.3", "minor") == "1.3.0"
    assert next_version("1.2.3", "patch") == "1.2.4"


def _relabel(d):
    d["title"]["en"] = "Quick model"
    d["params"]["folds"]["label"]["zh"] = "折数"
    d["params"]["folds"]["widget"] = "number"
    d["roles"]["context"]["help"]["en"] = "Conditions"
    d["steps"][0]["title"]["en"] = "Tidy"


def _new_default(d):
    d["params"]["folds"]["default"] = 3


def _new_step(d):
    d["steps"].insert(0, {"id": "fill", "op": "clean.impute@1", "inputs": {"frame": "data"}})
    d["steps"][1]["inputs"]["frame"] = "fill.frame"


def _optional_param(d):
    d["params"]["seed_rows"] = {"type": "int", "default": 10, "label": {"en": "Rows", "zh": "行数"}}


def _wider(d):
    d["params"]["folds"]["max"] = 30
    d["roles"]["controllable"]["dtypes"].append("bool")


def _removed_param(d):
    del d["params"]["top_k"]


def _renamed_param(d):
    d["params"]["n_trees"] = d["params"].pop("n_estimators")
    d["steps"][1]["with"]["n_estimators"] = "params.n_trees"


def _removed_role(d):
    del d["roles"]["group"]
    del d["steps"][1]["with"]["group"]


def _narrowed(d):
    d["params"]["folds"]["max"] = 10


def _choice_removed(d):
    d["params"]["task"]["choices"] = ["auto", "regression"]


def _required_param(d):
    d["params"]["limit"] = {"type": "float", "label": {"en": "Limit", "zh": "限值"}}


def _required_role(d):
    d["roles"]["context"]["required"] = True


def _type_changed(d):
    d["params"]["top_k"] = {"type": "float", "default": 30.0, "label": {"en": "K", "zh": "K"}}


@pytest.mark.parametrize("edit, level", [
    (_relabel, "patch"), (_new_default, "minor"), (_new_step, "minor"), (_optional_param, "minor"), (_wider, "minor"),
    (_removed_param, "major"), (_renamed_param, "major"), (_removed_role, "major"), (_narrowed, "major"),
    (_choice_removed, "major"), (_required_param, "major"), (_required_role, "major"), (_type_changed, "major")])
def test_each_kind_of_change_needs_its_bump(edit, level):
    diff = diff_templates(variant(), variant("9.0.0", edit))
    assert diff.required == level, diff.lines()


def test_no_change_needs_no_bump():
    diff = diff_templates(variant(), variant("1.0.1"))
    assert diff.changes == [] and diff.required is None


def test_diff_names_what_changed():
    diff = diff_templates(variant(), variant("2.0.0", lambda d: (_new_step(d), _renamed_param(d), _new_default(d))))
    kinds = {(c.area, c.name, c.kind) for c in diff.changes}
    assert {("step", "fill", "added"), ("step", "clean", "changed"), ("param", "n_estimators", "removed"),
            ("param", "n_trees", "added"), ("param", "folds", "changed")} <= kinds
    removed = next(c for c in diff.changes if c.name == "n_estimators")
    assert "renamed to 'n_trees'?" in removed.detail
    folds = next(c for c in diff.changes if c.name == "folds")
    assert folds.detail == "default 5 → 3"
    assert diff.to_dict()["required"] == "major"
    assert diff.lines()[0].startswith("quick_model@1.0.0 → quick_model@2.0.0")


def test_check_version_enforces_the_rule():
    old = variant()
    assert check_version(None, old) == []  # a first version may be anything valid
    assert check_version(old, variant("1.0.1", _relabel)) == []
    assert check_version(old, variant("1.1.0", _new_step)) == []
    assert check_version(old, variant("2.0.0", _new_step)) == []  # more than needed is fine
    too_small = check_version(old, variant("1.0.1", _new_step))
    assert len(too_small) == 1 and "patch bump, but the changes need a minor bump" in too_small[0].message
    assert too_small[0].hint == "use 1.1.0" and too_small[0].path == "version"
    breaking = check_version(old, variant("1.1.0", _removed_param))
    assert "param 'top_k' removed" in breaking[0].message and breaking[0].hint == "use 2.0.0"
    same = check_version(old, variant("1.0.0", _relabel))
    assert "already exists" in same[0].message and "1.0.1" in same[0].hint
    lower = check_version(variant("1.2.0"), variant("1.1.5", _relabel), ["1.0.0", "1.2.0"])
    assert "not above the newest version 1.2.0" in lower[0].message
