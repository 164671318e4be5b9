"""The monitor end to end on the simulated line: a trained run, live batches with planted faults, alerts found,
stored once, acknowledged, posted to a webhook; retraining with the monitored batches."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from engine import api
from engine.core.errors import InvalidInput
from tests.service import monitor_setup as setup


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """(run_id, result) trained once for the module, in its own studio home."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("monitor")
    mp.setenv("AI_STUDIO_HOME", str(home / "studio"))
    mp.delenv("AI_STUDIO_DB", raising=False)
    run_id, result = setup.train(home)
    frame = setup.faulty(result)
    frame.iloc[:120].to_csv(home / "live_a.csv", index=False)
    frame.iloc[120:].to_csv(home / "live_b.csv", index=False)
    api.ingest(home / "live_a.csv", "line_live")
    yield run_id, result, home
    mp.undo()


def test_planted_faults_are_found_and_named(line):
    run_id, result, home = line
    report = api.monitor_report(run_id, data=setup.faulty(result), baseline=setup.BASELINE)
    alerts = report["alerts"]
    before = [a for a in alerts if a["row"] < setup.SHIFT_AT]
    assert before == []  # in control until the first fault
    chart = [a for a in alerts if a["kind"] in ("outcome", "residual") and a["row"] >= setup.SHIFT_AT]
    assert chart and chart[0]["row"] - setup.SHIFT_AT < 5
    leave = [a for a in alerts if a["kind"] == "compliance"]
    assert leave[0]["row"] == setup.LEAVE_AT and leave[0]["column"] == "belt_speed"
    assert "belt_speed" in leave[0]["message"] and "推荐窗口" in leave[0]["zh"]
    drift = [a for a in alerts if a["kind"] == "drift"]
    assert drift and drift[0]["column"] == "wafer_resistivity" and drift[0]["row"] - setup.DRIFT_AT < 20
    assert all(a["time"] for a in alerts)  # the run's time column names the batch
    out = api.monitor_json(report)
    assert set(out) == {"alerts", "summary"}
    assert all(set(a) == {"row", "time", "kind", "rule", "column", "message", "zh"} for a in out["alerts"])
    json.dumps(out)  # plain JSON
    s = out["summary"]
    assert s["batches"] == 160 and s["baseline"] == setup.BASELINE and s["retrain"]["suggested"]
    assert 0 < s["compliance"]["share"] < 1 and s["accuracy"]["rmse"] > s["accuracy"]["cv_rmse"]


def test_benefit_counts_trials_against_the_baseline(line):
    run_id, result, home = line
    frame = setup.live_frame(result, 140, seed=4, shift_at=setup.BASELINE, shift_sigma=1.5)
    b = api.monitor_report(run_id, data=frame, baseline=setup.BASELINE)["summary"]["benefit"]
    assert b["trials"] == 80 and b["baseline_batches"] == setup.BASELINE
    assert b["low"] > 0 and b["confirmed"] and b["more_batches"] == 0


def test_alerts_are_stored_once_acknowledged_and_sent(line):
    run_id, result, home = line
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/alerts"
    try:
        first = api.check_monitor(run_id, "line_live", baseline=setup.BASELINE, webhook=url)
        assert first["new_alerts"] and first["summary"]["webhook"]["error"] is None
        assert api.check_monitor(run_id, "line_live")["new_alerts"] == []  # checked again: nothing new
        api.ingest(home / "live_b.csv", "line_live", options={"mode": "append"})
        grown = api.check_monitor(run_id, "line_live")
        assert grown["new_alerts"] and min(a["row"] for a in grown["new_alerts"]) >= 120
    finally:
        server.shutdown()
    sent = [a for body in received for a in body["alerts"]]
    assert len(received) == 2 and len(sent) == len(first["new_alerts"]) + len(grown["new_alerts"])
    assert {"row", "kind", "rule", "column", "message", "zh", "id"} <= set(sent[0])
    stored = api.alerts(run_id=run_id, table="line_live")
    assert len(stored) == len(sent) and all(a["sent_at"] for a in stored)
    ids = [a["alert_id"] for a in stored[:2]]
    assert api.acknowledge_alerts(ids, "王工", "checked the furnace") == 2
    assert api.acknowledge_alerts(ids, "王工") == 0
    assert {a["acknowledged_by"] for a in api.alerts(run_id=run_id) if a["alert_id"] in ids} == {"王工"}
    assert len(api.alerts(run_id=run_id, open_only=True)) == len(stored) - 2
    with pytest.raises(InvalidInput, match="no alert"):
        api.acknowledge_alerts(["A-nope"], "王工")
    with pytest.raises(InvalidInput, match="user"):
        api.acknowledge_alerts(ids, " ")


def test_a_dead_webhook_is_recorded_not_fatal(line):
    run_id, result, home = line
    api.ingest(home / "live_a.csv", "line_live2")
    out = api.check_monitor(run_id, "line_live2", baseline=setup.BASELINE, webhook="http://127.0.0.1:9/none")
    assert out["new_alerts"] and out["summary"]["webhook"]["error"]
    assert all(a["send_error"] and not a["sent_at"] for a in api.alerts(table="line_live2"))
    with pytest.raises(InvalidInput, match="http"):
        api.start_monitor(run_id, "line_live2", webhook="ftp://mes")


def test_bad_input_is_named(line):
    run_id, result, home = line
    frame = setup.live_frame(result, 80).drop(columns=["yield_pct"])
    with pytest.raises(InvalidInput, match="yield_pct"):
        api.monitor_report(run_id, data=frame)
    with pytest.raises(InvalidInput, match="--table NAME or --data FILE"):
        api.monitor_report(run_id)
    with pytest.raises(InvalidInput, match="at least 3"):
        api.monitor_report(run_id, data=setup.live_frame(result, 80), baseline=2)
    few = api.monitor_report(run_id, data=setup.live_frame(result, 50))  # default baseline 100 > 50 batches
    assert few["alerts"] == [] and "nothing is checked yet" in few["summary"]["warnings"][-1]["en"]
    no_model = setup.live_frame(result, 80).drop(columns=["humidity"])
    out = api.monitor_report(run_id, data=no_model, baseline=setup.BASELINE)
    assert out["series"]["residual_chart"] is None and "humidity" in out["summary"]["warnings"][0]["en"]


def test_retrain_adds_the_monitored_batches_and_runs(line):
    run_id, result, home = line
    api.log_trial(run_id, {"belt_speed": 2.9}, 92.0, batches=2)
    table, recipe = api.retrain_from_monitor(run_id, "line_live")
    info = api.catalog().table_info(table)
    assert info.rows == 500 + 160 + 2 and recipe["data"] == {"table": table}
    again = api.run_recipe(recipe)
    assert again["status"] == "succeeded" and again["data"]["rows"] == info.rows


def test_watch_folder_checks_the_monitor_after_each_ingest(line, tmp_path):
    run_id, result, home = line
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    frame = setup.faulty(result)
    frame.iloc[:80].to_csv(inbox / "first.csv", index=False)
    checks = []
    api.watch_folder(inbox, "line_w", interval=0.05, max_polls=2)  # creates the table
    api.start_monitor(run_id, "line_w", baseline=setup.BASELINE)
    frame.iloc[80:].to_csv(inbox / "second.csv", index=False)
    taken = api.watch_folder(inbox, "line_w", run_id=run_id, interval=0.05, max_polls=2, on_check=checks.append)
    assert taken == 1 and len(checks) == 1
    assert checks[0]["summary"]["batches"] == 160 and checks[0]["new_alerts"]
    assert {a["alert_id"] for a in checks[0]["new_alerts"]} == {a["alert_id"] for a in api.alerts(table="line_w")}
