"""Table profile and readiness score: small tables with known answers, the cache, the sampled path."""

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput
from engine.store.ingest import ingest_file
from engine.store.profiling import columns as col_stats, profile_table


def _table(tmp_path, db, name: str, header: str, rows: list, replace: bool = False) -> Catalog:
    """Write rows as a CSV (None -> empty field) and ingest it as table `name`."""
    path = tmp_path / f"{name}.csv"
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    catalog = Catalog(db)
    ingest_file(catalog, path, name, replace=replace)
    return catalog


def _col(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def _minutes(n: int, start=datetime(2024, 1, 1)) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(n)]


def test_numeric_stats_match_numpy(tmp_path, db):
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(50, 10, 200), 2)
    rows = [[None if i % 4 == 0 else v, i % 7] for i, v in enumerate(x)]
    cat = _table(tmp_path, db, "nums", "x,k", rows)
    p = profile_table(cat, "nums")
    present = np.array([r[0] for r in rows if r[0] is not None])
    c = _col(p, "x")
    assert p["rows"] == 200 and p["n_columns"] == 2
    assert c["missing"] == 50 and c["missing_pct"] == 25.0 and c["class"] == "numeric"
    assert c["distinct"] == len(set(present)) and c["distinct_exact"]
    assert _col(p, "k")["distinct"] == 7
    for q, key in zip(col_stats.QUANTILES, ("p1", "p5", "p25", "p50", "p75", "p95", "p99")):
        assert c["quantiles"][key] == pytest.approx(np.quantile(present, q))
    assert c["mean"] == pytest.approx(present.mean()) and c["std"] == pytest.approx(present.std(ddof=1))
    assert (c["min"], c["max"]) == (present.min(), present.max())
    json.dumps(p, allow_nan=False)  # pure JSON


def test_constant_and_near_constant(tmp_path, db):
    rows = [[5, 1 if i == 0 else 0, i, "A"] for i in range(200)]  # `near`: one value covers 199/200 = 99.5 %
    cat = _table(tmp_path, db, "flat", "const,near,varied,label", rows)
    p = profile_table(cat, "flat")
    assert _col(p, "const")["constant"] and _col(p, "label")["constant"]
    near = _col(p, "near")
    assert near["near_constant"] and not near["constant"] and near["most_common"] == {"value": 0, "share": 0.995}
    assert not _col(p, "varied")["near_constant"] and _col(p, "varied")["most_common"] is None
    assert not _col(profile_table(cat, "flat", near_constant=0.999), "near")["near_constant"]
    assert p["readiness"]["useful_columns"] == ["varied"]
    with pytest.raises(InvalidInput, match="near_constant must be above 0.5"):
        profile_table(cat, "flat", near_constant=0.3)


def test_outliers_by_iqr_and_mad(tmp_path, db):
    rng = np.random.default_rng(1)
    x = np.concatenate([np.round(rng.normal(10, 1, 300), 3), [60.0, 70.0, -40.0, 80.0, 90.0]])  # 5 planted
    cat = _table(tmp_path, db, "out", "x", [[v] for v in x])
    out = _col(profile_table(cat, "out"), "x")["outliers"]
    q1, q3, med = np.quantile(x, [0.25, 0.75, 0.5])
    mad = np.median(np.abs(x - med))
    assert out["iqr"]["count"] == int(((x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))).sum())
    assert out["mad"]["count"] == int((0.6745 * np.abs(x - med) / mad > 3.5).sum())
    assert out["mad"]["count"] >= 5 and out["iqr"]["count"] >= 5
    assert "IQR" in out["iqr"]["rule"] and "MAD" in out["mad"]["rule"]


def test_histograms_count_every_value(tmp_path, db):
    rows = [[None if i % 10 == 0 else i * 1.5, ["a", "b", "b", "c", None][i % 5] if i < 50 else f"v{i % 13}"]
            for i in range(120)]
    cat = _table(tmp_path, db, "hist", "x,word", rows)
    p = profile_table(cat, "hist")
    x, word = _col(p, "x"), _col(p, "word")
    assert len(x["histogram"]["edges"]) == 21 and len(x["histogram"]["counts"]) == 20
    assert sum(x["histogram"]["counts"]) + x["missing"] == 120
    hist = word["histogram"]
    assert len(hist["top"]) == 10 and sum(t["count"] for t in hist["top"]) + hist["other"] + word["missing"] == 120
    assert hist["top"][0] == {"value": "b", "count": 20} and word["most_common"]["value"] == "b"


def test_duplicate_rows(tmp_path, db):
    rows = [[i, i * 2] for i in range(20)] + [[3, 6], [3, 6], [7, 14]]
    p = profile_table(_table(tmp_path, db, "dups", "a,b", rows), "dups")
    assert p["duplicate_rows"] == 3 and p["duplicate_rows_exact"]
    assert any(r["code"] == "duplicate_rows" for r in p["readiness"]["reasons"])


def test_time_axis_interval_gap_and_duplicates(tmp_path, db):
    stamps = _minutes(100) + _minutes(100, datetime(2024, 1, 1, 2, 0))  # 01:39 -> 02:00: a 21-minute gap
    stamps += [stamps[10], stamps[150]]  # two repeated instants
    rows = [[t.isoformat(sep=" "), i % 9] for i, t in enumerate(stamps)]
    cat = _table(tmp_path, db, "ts", "recorded,value", rows)
    axis = profile_table(cat, "ts")["time"]
    assert axis["column"] == "recorded" and axis["interval_seconds"] == 60 and axis["interval"] == "1 min"
    assert (axis["start"], axis["end"]) == ("2024-01-01 00:00:00", "2024-01-01 03:39:00")
    assert axis["duplicate_timestamps"] == 2 and axis["gaps"]["count"] == 1
    assert axis["gaps"]["largest"][0] == {"start": "2024-01-01 01:39:00", "end": "2024-01-01 02:00:00",
                                          "seconds": 1260.0, "duration": "21 min"}
    assert axis["coverage"] == pytest.approx(1 - 1200 / (219 * 60))


def test_time_column_detection_prefers_a_time_name(tmp_path, db):
    rows = [[t.date().isoformat(), t.isoformat(sep=" "), i] for i, t in enumerate(_minutes(30))]
    cat = _table(tmp_path, db, "two", "created,采样时间,v", rows)
    assert profile_table(cat, "two")["time"]["column"] == "采样时间"
    assert profile_table(cat, "two", time="created")["time"]["column"] == "created"
    with pytest.raises(InvalidInput, match="no column 'creatd'") as err:
        profile_table(cat, "two", time="creatd", target="v")
    assert "did you mean" in str(err.value)


def _plant(n: int, gap: bool = False, missing: float = 0.0, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    stamps = _minutes(n)
    if gap:  # the second half is recorded a day later
        stamps = stamps[: n // 2] + [t + timedelta(days=1) for t in stamps[n // 2:]]
    rows = []
    for i, t in enumerate(stamps):
        temp, speed = round(rng.normal(850, 5), 2), round(rng.normal(1.5, 0.1), 3)
        humidity = None if rng.random() < missing else round(rng.normal(40, 3), 1)
        rows.append([t.isoformat(sep=" "), temp, speed, humidity, round(temp * 0.001 + speed * 0.1, 4)])
    return rows


def test_readiness_is_lower_for_a_sparse_table_and_says_why(tmp_path, db):
    header = "time,temp,speed,humidity,yield"
    clean = profile_table(_table(tmp_path, db, "clean", header, _plant(600)), "clean")["readiness"]
    sparse = profile_table(_table(tmp_path, db, "sparse", header, _plant(600, gap=True, missing=0.6)),
                           "sparse")["readiness"]
    small = profile_table(_table(tmp_path, db, "small", header, _plant(30)), "small")["readiness"]
    assert clean["score"] > 95 and sparse["score"] < clean["score"] - 20 and small["score"] < clean["score"]
    assert sparse["collection_density"] < clean["collection_density"]
    codes = {r["code"]: r for r in sparse["reasons"]}
    assert "'humidity'" in codes["missing_cells"]["en"] and "'humidity'" in codes["missing_cells"]["zh"]
    assert codes["time_gaps"]["lowers_score"] and "1 d" in codes["time_gaps"]["en"]
    few = next(r for r in small["reasons"] if r["code"] == "few_rows_per_feature")
    assert "7.5 rows per useful feature column" in few["en"] and few["zh"]


def test_closed_loop_needs_target_and_moving_controllables_on_the_same_rows(tmp_path, db):
    rows = [[i, None if i % 4 == 0 else i % 10, 3, i % 5] for i in range(400)]
    cat = _table(tmp_path, db, "loop", "yield,temp,speed,humidity", rows)
    unassessed = profile_table(cat, "loop")["readiness"]
    assert unassessed["closed_loop"] is None
    r = profile_table(cat, "loop", target="yield", controllable=["temp", "speed"])["readiness"]
    assert r["closed_loop"] == pytest.approx(100 * 0.75 * 2 / 3)  # 75 % recorded together; speed never moves
    codes = {x["code"]: x for x in r["reasons"]}
    assert "75.0%" in codes["not_recorded_together"]["en"] and "'speed'" in codes["does_not_move"]["en"]
    assert r["score"] < unassessed["score"]


def test_cache_hit_and_invalidation_on_replace(tmp_path, db):
    cat = _table(tmp_path, db, "c", "a,b", [[i, i % 3] for i in range(50)])
    first = profile_table(cat, "c")
    second = profile_table(cat, "c")
    assert not first["cached"] and second["cached"] and second["served_seconds"] < 0.5
    assert {k: v for k, v in second.items() if k not in ("cached", "served_seconds")} == \
           {k: v for k, v in first.items() if k not in ("cached", "served_seconds")}
    assert not profile_table(cat, "c", target="a")["cached"]  # options are part of the key
    assert not profile_table(cat, "c", refresh=True)["cached"]
    _table(tmp_path, db, "c", "a,b", [[i, i % 4] for i in range(60)], replace=True)
    fresh = profile_table(cat, "C")  # names ignore case, like everywhere in the data factory
    assert not fresh["cached"] and fresh["rows"] == 60 and fresh["fingerprint"] != first["fingerprint"]
    with cat.connect() as con:  # the old content's profiles are gone
        stale = con.execute("SELECT count(*) FROM _studio_profiles WHERE fingerprint = ?",
                            [first["fingerprint"]]).fetchone()[0]
    assert stale == 0
    with pytest.raises(InvalidInput, match="no table 'nope'"):
        profile_table(cat, "nope")


def test_large_table_path_samples_robust_stats_only(tmp_path, db, monkeypatch):
    monkeypatch.setattr(col_stats, "EXACT_ROWS", 100)
    monkeypatch.setattr(col_stats, "SAMPLE_ROWS", 300)
    rng = np.random.default_rng(2)
    x = np.round(rng.uniform(0, 100, 1000), 3)
    rows = [[v, i % 5] for i, v in enumerate(x)] + [[x[0], 0]]  # one duplicate row
    p = profile_table(_table(tmp_path, db, "big", "x,k", rows), "big")
    c = _col(p, "x")
    assert not c["quantiles_exact"] and not c["distinct_exact"] and not p["duplicate_rows_exact"]
    assert c["quantiles"]["p50"] == pytest.approx(np.median(x), abs=8)  # a sample: close, not exact
    assert sum(c["histogram"]["counts"]) == 1001 and c["max"] == x.max()  # counts stay exact
    assert p["duplicate_rows"] == 1


def test_summary_lines_in_both_languages(tmp_path, db):
    from engine.store.profiling.text import summary_lines

    cat = _table(tmp_path, db, "s", "time,temp,label", [[t.isoformat(sep=" "), i % 7, "ab"[i % 2]]
                                                        for i, t in enumerate(_minutes(40))])
    profile = profile_table(cat, "s")
    en, zh = summary_lines(profile, "en"), summary_lines(profile, "zh")
    assert en[0].startswith("s: 40 rows × 3 columns") and zh[0].startswith("s: 40 行 × 3 列")
    assert any("every 1 min" in line for line in en) and any(line.startswith("label") for line in en)
