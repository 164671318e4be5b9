"""Real factory files: encodings, dialects, junk lines, names, types, dates, bad rows, append, Excel, limits."""

from pathlib import Path

import pandas as pd
import pytest

from engine import api
from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _unchanged(db, fn, match: str) -> str:
    Catalog(db).tables()
    with Catalog(db).connect() as con:
        before = con.execute("SELECT name, rows FROM _studio_tables ORDER BY 1").fetchall()
    with pytest.raises(InvalidInput, match=match) as info:
        fn()
    with Catalog(db).connect() as con:
        assert con.execute("SELECT name, rows FROM _studio_tables ORDER BY 1").fetchall() == before
    return str(info.value)


def test_gbk_csv_with_chinese_headers(tmp_path, db):
    path = _write(tmp_path, "炉温.csv", "批次,炉温(℃),良率\nB1,850.5,0.93\nB2,861.0,0.95\n", "gbk")
    info = api.ingest(path, "炉温", db=db)
    assert list(info.columns) == ["批次", "炉温(℃)", "良率"] and info.columns["炉温(℃)"] == "DOUBLE"
    assert Catalog(db).read_table("炉温")["批次"].tolist() == ["B1", "B2"]


def test_semicolon_decimal_comma_and_junk_lines_above_header(tmp_path, db):
    text = ("Export from MES line 3\nGenerated 2026-11-01\n\n"
            "time;temp;pressure\n2026-11-01 08:00;850,5;1.013,2\n2026-11-01 09:00;851,25;1.012,9\n")
    info = api.ingest(_write(tmp_path, "semi.csv", text), "semi", db=db)
    frame = Catalog(db).read_table("semi")
    assert frame["temp"].tolist() == [850.5, 851.25] and frame["pressure"].tolist() == [1013.2, 1012.9]
    assert info.columns["time"].startswith("TIMESTAMP")
    assert any("took line 4 as the header" in w for w in info.warnings)
    assert any("decimal ','" in w for w in info.warnings)


def test_tab_pipe_quoted_and_thousands(tmp_path, db):
    api.ingest(_write(tmp_path, "t.tsv", "a\tb\n1\t\"x, y\"\n2\tz\n"), "tsv", db=db)
    assert Catalog(db).read_table("tsv")["b"].tolist() == ["x, y", "z"]
    api.ingest(_write(tmp_path, "p.csv", "a|b\n1|2\n3|4\n"), "pipe", db=db)
    assert Catalog(db).read_table("pipe")["b"].tolist() == [2, 4]
    info = api.ingest(_write(tmp_path, "th.csv", 'item,amount\na,"1,234.5"\nb,"12,000"\n'), "th", db=db)
    assert Catalog(db).read_table("th")["amount"].tolist() == [1234.5, 12000.0]
    assert any("thousands separator ','" in w for w in info.warnings)


def test_blank_and_duplicate_names_made_unique(tmp_path, db):
    info = api.ingest(_write(tmp_path, "n.csv", "温度,,温度,Temp,temp\n1,2,3,4,5\n"), "names", db=db)
    assert list(info.columns) == ["温度", "column_2", "温度_2", "Temp", "temp_2"]
    assert any("'温度' → '温度_2'" in w and "'temp' → 'temp_2'" in w for w in info.warnings)


def test_type_override_reports_offending_rows(tmp_path, db):
    text = "batch,weight\nB1,12.5\nB2,12,5kg\nB3,n/a\nB4,13.0\n".replace("12,5kg", '"12,5kg"')
    info = api.ingest(_write(tmp_path, "w.csv", text), "w", db=db, options={"types": {"weight": "numeric",
                                                                                      "batch": "id"}})
    assert info.columns["weight"] == "DOUBLE"
    assert Catalog(db).read_table("w")["weight"].isna().tolist() == [False, True, True, False]
    warning = next(w for w in info.warnings if "weight" in w)
    assert "data row 2: '12,5kg'" in warning


def test_mixed_text_in_numeric_column_is_reported_not_guessed(tmp_path, db):
    rows = "".join(f"{i},{800 + i}\n" for i in range(20)) + "20,ERR\n"
    info = api.ingest(_write(tmp_path, "m.csv", "i,temp\n" + rows), "m", db=db)
    assert info.columns["temp"] == "VARCHAR"
    assert any("mostly numbers but 1 value(s) are text (data row 21: 'ERR')" in w for w in info.warnings)


def test_day_month_order_decided_from_data_or_reported(tmp_path, db):
    dmy = api.ingest(_write(tmp_path, "d.csv", "t,v\n03/04/2026,1\n25/04/2026,2\n"), "dmy", db=db)
    assert dmy.columns["t"] == "TIMESTAMP"
    assert Catalog(db).read_table("dmy")["t"].dt.month.tolist() == [4, 4]
    amb = api.ingest(_write(tmp_path, "a.csv", "t,v\n03/04/2026,1\n05/04/2026,2\n"), "amb", db=db)
    assert amb.columns["t"] == "VARCHAR"
    assert any("ambiguous" in w and "%d/%m/%Y" in w for w in amb.warnings)
    fixed = api.ingest(tmp_path / "a.csv", "fixed", db=db, options={"formats": {"t": "%m/%d/%Y"}})
    assert Catalog(db).read_table("fixed")["t"].dt.month.tolist() == [3, 5]


def test_ragged_rows_refused_with_lines_or_skipped(tmp_path, db):
    path = _write(tmp_path, "r.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    text = _unchanged(db, lambda: api.ingest(path, "r", db=db), "2 malformed row")
    assert "line 3: missing columns" in text and "line 4: too many columns" in text
    info = api.ingest(path, "r", db=db, options={"skip_bad_rows": True})
    assert info.rows == 2 and any("skipped 2 malformed" in w for w in info.warnings)


def test_inf_values_become_missing(tmp_path, db):
    info = api.ingest(_write(tmp_path, "i.csv", "x,y\n1,inf\n2,-inf\n3,4\n"), "inf", db=db)
    assert Catalog(db).read_table("inf")["y"].isna().sum() == 2
    assert any("2 infinite" in w for w in info.warnings)


def test_append_checks_schema(tmp_path, db):
    first = _write(tmp_path, "q1.csv", "batch,temp\nB1,850\nB2,851\n")
    api.ingest(first, "line", db=db)
    info = api.ingest(_write(tmp_path, "q2.csv", "batch,temp\nB3,852\n"), "line", db=db, options={"mode": "append"})
    assert info.rows == 3 and "q2.csv" in info.source
    assert Catalog(db).read_table("line")["batch"].tolist() == ["B1", "B2", "B3"]
    old = info.fingerprint
    bad = _write(tmp_path, "q3.csv", "batch,pressure\nB4,1.0\n")
    text = _unchanged(db, lambda: api.ingest(bad, "line", db=db, options={"mode": "append"}), "cannot append")
    assert "missing column(s): temp" in text and "extra column(s): pressure" in text
    assert Catalog(db).table_info("line").fingerprint == old


def test_wide_file_of_5000_columns(tmp_path, db):
    header = ",".join(f"s{j}" for j in range(5000))
    body = "\n".join(",".join(str((i * j) % 97) for j in range(5000)) for i in range(20))
    info = api.ingest(_write(tmp_path, "wide.csv", header + "\n" + body + "\n"), "wide", db=db)
    assert len(info.columns) == 5000 and info.rows == 20


def test_legacy_xls_two_sheet_xlsx_and_merged_header(tmp_path, db):
    info = api.ingest(FIXTURES / "Concrete_Data.xls", "concrete_xls", db=db)
    assert info.rows == 1030 and len(info.columns) == 9
    book = tmp_path / "two.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame([["Line 3 quality report", None, None], ["批次", "温度", None], ["B1", 850, 0.9],
                      ["B2", 851, 0.95]]).to_excel(writer, sheet_name="质量", index=False, header=False)
        pd.DataFrame({"a": [1, 2]}).to_excel(writer, sheet_name="other", index=False)
    merged = api.ingest(book, "quality", db=db, sheet="质量")
    assert list(merged.columns) == ["批次", "温度", "column_3"] and merged.rows == 2
    assert any("took row 2" in w for w in merged.warnings) and any("merged cells" in w for w in merged.warnings)
    assert api.ingest(book, "other", db=db, sheet="other").rows == 2
    _unchanged(db, lambda: api.ingest(book, "nosheet", db=db, sheet="三"), "no sheet '三'")


def test_file_over_the_size_limit(tmp_path, db, monkeypatch):
    monkeypatch.setenv("AI_STUDIO_MAX_FILE_MB", "0.001")
    path = _write(tmp_path, "big.csv", "a,b\n" + "1,2\n" * 1000)
    _unchanged(db, lambda: api.ingest(path, "big", db=db), "above the limit")


def test_cli_ingest_flags(tmp_path, studio_home):
    from tests.conftest import run_cli

    env = {"AI_STUDIO_HOME": str(studio_home)}
    path = _write(tmp_path, "c.csv", "t;v\n03/04/2026;1,5\n05/04/2026;2,5\n")
    proc = run_cli("ingest", str(path), "--table", "c", "--format", "t=%d/%m/%Y", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "decimal ','" in proc.stderr
    bad = run_cli("ingest", str(path), "--table", "c2", "--type", "t=number", env=env)
    assert bad.returncode == 2 and "--types.t" in bad.stderr and "Traceback" not in bad.stderr


def test_time_zones_to_utc_or_reported_when_mixed(tmp_path, db):
    info = api.ingest(_write(tmp_path, "tz.csv", "t,v\n2026-01-01T08:00:00+08:00,1\n2026-01-01T01:00:00Z,2\n"),
                      "tz", db=db)
    assert info.columns["t"] == "TIMESTAMP"
    assert Catalog(db).read_table("tz")["t"].dt.hour.tolist() == [0, 1]
    assert any("converted to UTC" in w for w in info.warnings)
    mixed = api.ingest(_write(tmp_path, "mx.csv", "t,v\n2026-01-01T08:00:00+08:00,1\n2026-01-01 09:00:00,2\n"),
                       "mx", db=db)
    assert mixed.columns["t"] == "VARCHAR"
    assert any("mixes times with a time zone (1) and without (1)" in w for w in mixed.warnings)


def test_derive_table_never_overwrites_the_source(demo_db):
    info, report = api.derive_table("concrete", "clean.filter_rows", {"condition": "age_days = 28"}, "c28",
                                    db=demo_db)
    assert info.rows == report["rows_out"] == 425 and "clean.filter_rows@1(concrete)" == info.source
    assert Catalog(demo_db).table_info("concrete").rows == 1030
    with pytest.raises(InvalidInput, match="already exists"):
        api.derive_table("concrete", "clean.deduplicate", {}, "c28", db=demo_db)
    with pytest.raises(InvalidInput, match="not an operator that makes a table"):
        api.derive_table("concrete", "model.lightgbm_cv", {}, "m", db=demo_db)
    with pytest.raises(InvalidInput, match="unknown column 'agee'"):
        api.derive_table("concrete", "clean.filter_rows", {"condition": "agee = 28"}, "c29", db=demo_db)


def test_text_after_the_type_sample_is_reported_not_refused(tmp_path, db):
    rows = "".join(f"{i},{i * 0.5}\n" for i in range(30000))
    path = _write(tmp_path, "late.csv", "i,v\n" + rows + "30000,n/a\n30001,oops\n")
    info = api.ingest(path, "late", db=db)
    assert info.rows == 30002 and info.columns["v"] == "VARCHAR"
    assert any("mostly numbers but 1 value(s) are text (data row 30002: 'oops')" in w for w in info.warnings)
    clean = _write(tmp_path, "late2.csv", "i,v\n" + rows + "30000,n/a\n")
    info = api.ingest(clean, "late2", db=db)
    assert info.columns["v"] == "DOUBLE" and Catalog(db).read_table("late2")["v"].isna().sum() == 1
