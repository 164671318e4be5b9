"""`python -m engine monitor | alerts` as a script or the MES calls them: the JSON shape, zh text, stored alerts
acknowledged, bad input → exit 2 naming the problem."""

from __future__ import annotations

import json

from engine import api
from tests.conftest import run_cli
from tests.service import monitor_setup as setup


def test_monitor_cli_json_text_store_and_ack(studio_home, tmp_path):
    run_id, result = setup.train(tmp_path)
    live = tmp_path / "live.csv"
    setup.faulty(result).to_csv(live, index=False)
    env = {"AI_STUDIO_HOME": str(studio_home)}

    out = run_cli("monitor", run_id, "--data", str(live), "--baseline", str(setup.BASELINE), "--json", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"alerts", "summary"} and data["alerts"]
    first = data["alerts"][0]
    assert list(first) == ["row", "time", "kind", "rule", "column", "message", "zh"]
    assert all(isinstance(a["row"], int) and setup.BASELINE <= a["row"] < 160 for a in data["alerts"])
    assert any(a["kind"] == "compliance" and a["row"] == setup.LEAVE_AT for a in data["alerts"])
    assert data["summary"]["batches"] == 160 and "benefit" in data["summary"]

    api.ingest(live, "line_live")
    stored = run_cli("monitor", run_id, "--table", "line_live", "--baseline", str(setup.BASELINE), "--store",
                     env={**env, "AI_STUDIO_LANG": "zh"})
    assert stored.returncode == 0, stored.stderr
    assert "基准期" in stored.stdout and "推荐窗口" in stored.stdout
    assert f"新保存 {len(data['alerts'])} 条报警" in stored.stdout
    listed = json.loads(run_cli("alerts", "--run", run_id, "--open", "--json", env=env).stdout)
    assert len(listed) == len(data["alerts"])
    ack = run_cli("alerts", "ack", listed[0]["alert_id"], "--user", "li.wei", "--note", "furnace checked", env=env)
    assert ack.returncode == 0 and "acknowledged 1 alert(s) as li.wei" in ack.stdout
    assert len(api.alerts(open_only=True)) == len(listed) - 1

    bad = tmp_path / "bad.csv"
    setup.live_frame(result, 80).drop(columns=["yield_pct"]).to_csv(bad, index=False)
    wrong = run_cli("monitor", run_id, "--data", str(bad), env=env)
    assert wrong.returncode == 2 and "yield_pct" in wrong.stderr and "Traceback" not in wrong.stderr
