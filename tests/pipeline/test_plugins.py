"""Plugins: an operator in a separate package is discovered through its entry point, listed, contract-tested,
and usable in a template dropped into an extra template folder — all in a fresh process."""

import json
import textwrap

from tests.conftest import REPO, run_cli

PLUGIN = '''
"""A plant's own operator, shipped as a plugin."""
import pandas as pd
from engine.pipeline.context import StepContext
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class ScaleParams(OpParams):
    column: str = ui_field(en="Column", zh="列")
    factor: float = ui_field(2.0, en="Factor", zh="倍数", gt=0)


def _example():
    return {"column": "x"}, {"frame": pd.DataFrame({"x": [1.0, 2.0]})}


@operator("plant.scale", version=1, inputs=("frame",), outputs=("frame", "report"), example=_example)
def scale(params: ScaleParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Multiply one column by a factor (a plant's unit conversion)."""
    out = frame.copy()
    out[params.column] = out[params.column] * params.factor
    return {"frame": out, "report": {"scaled": params.column}}
'''

TEMPLATE = '''
id: scaled_model
version: 0.1.0
title: {en: Scaled quick model, zh: 换算后快速建模}
description: {en: Converts units with a plugin then models, zh: 先用插件换算单位再建模}
scenario: modelling
roles:
  target: {required: true, dtypes: [numeric], max: 1}
  controllable: {required: true, dtypes: [numeric]}
steps:
  - id: scale
    op: plant.scale@1
    inputs: {frame: data}
    with: {column: roles.target, factor: 10}
  - id: train
    op: model.lightgbm_cv
    inputs: {frame: scale.frame}
    with: {target: roles.target, features: roles.features, folds: 3, n_estimators: 30}
outputs:
  metrics: train.metrics
  key_parameters: train.importance
'''


def _install_plugin(tmp_path):
    site = tmp_path / "site"
    (site / "plant_ops").mkdir(parents=True)
    (site / "plant_ops" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    dist = site / "plant_ops-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plant-ops\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[ai_studio.operators]\nplant = plant_ops\n", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "scaled_model.yaml").write_text(TEMPLATE, encoding="utf-8")
    (templates / "broken.yaml").write_text("id: broken\nversion: 1.0\n", encoding="utf-8")
    return site, templates


def test_plugin_operator_is_discovered_contract_tested_and_used(tmp_path, studio_home):
    import os
    import sys

    site, templates = _install_plugin(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(site), *sys.path]), "AI_STUDIO_HOME": str(studio_home),
           "AI_STUDIO_TEMPLATES": str(templates)}
    ops = json.loads(run_cli("operators", "--json", env=env).stdout)
    assert "plant.scale" in [o["id"] for o in ops]
    listed = run_cli("templates", "--json", env=env)
    data = json.loads(listed.stdout)
    assert "scaled_model" in [t["id"] for t in data["templates"]]
    assert any("broken.yaml:2: version:" in issue for issue in data["broken"][str(templates / "broken.yaml")])
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/operators/test_operators_contract.py", "-k", "plant.scale"],
                          cwd=str(REPO), env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and " passed" in proc.stdout, proc.stdout + proc.stderr
    assert "deselected" in proc.stdout
    assert run_cli("demo", env=env).returncode == 0
    recipe = tmp_path / "r.yaml"
    recipe.write_text("template: scaled_model\nname: scaled\ndata: {table: concrete}\n"
                      "roles: {target: strength_mpa, controllable: [cement, water]}\n", encoding="utf-8")
    run = run_cli("run", str(recipe), "--out", str(tmp_path / "out"), env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert result["template"] == {"id": "scaled_model", "version": "0.1.0"}
    assert result["metrics"]["r2"]["mean"] > 0.3
