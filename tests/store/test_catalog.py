"""The data factory: ingest, list, preview, drop; bad input leaves it unchanged."""

import duckdb
import pandas as pd
import pytest

from engine import api
from engine.store import binding
from engine.store.binding import check_select
from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput
from engine.schema.recipe import DataBinding


def _snapshot(db):
    """Everything in the file: table list, metadata rows and row counts."""
    cat = Catalog(db)
    with cat.connect() as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        meta = con.execute("SELECT name, rows, sha256 FROM _studio_tables ORDER BY name").fetchall()
    return names, meta


def test_ingest_list_preview_drop(tmp_path, db):
    csv = tmp_path / "line 3.csv"
    csv.write_text("温度,速度,良率\n850,1.5,0.93\n860,1.7,0.95\n", encoding="utf-8")
    info = api.ingest(csv, "line3 Q3", db=db)
    assert info.rows == 2 and list(info.columns) == ["温度", "速度", "良率"]
    assert len(info.sha256) == 64 and info.source == "line 3.csv"
    assert [t.name for t in api.tables(db)] == ["line3 Q3"]
    assert Catalog(db).preview("line3 Q3")["良率"].tolist() == [0.93, 0.95]
    Catalog(db).drop("line3 Q3")
    assert api.tables(db) == []


@pytest.mark.parametrize("name", ['with "quotes"', "with spaces", "semi;colon", "中文表"])
def test_awkward_table_names_work_quoted(tmp_path, db, name):
    csv = tmp_path / "a.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    api.ingest(csv, name, db=db)
    assert Catalog(db).read_table(name)["b"].tolist() == [2]


def test_colliding_and_reserved_names_are_refused(tmp_path, db):
    csv = tmp_path / "a.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    api.ingest(csv, "Line3", db=db)
    before = _snapshot(db)
    with pytest.raises(InvalidInput, match="collides with existing table 'Line3'"):
        api.ingest(csv, "line3", db=db)
    with pytest.raises(InvalidInput, match="already exists"):
        api.ingest(csv, "Line3", db=db)
    with pytest.raises(InvalidInput, match="reserved"):
        api.ingest(csv, "_studio_runs", db=db)
    assert _snapshot(db) == before
    assert api.ingest(csv, "line3", db=db, replace=True).rows == 1


def _bad(path, db, match):
    Catalog(db).tables()  # make sure the file exists before the snapshot
    before = _snapshot(db)
    with pytest.raises(InvalidInput, match=match) as info:
        api.ingest(path, "t", db=db)
    assert _snapshot(db) == before, "a failed ingest must leave the data factory unchanged"
    return str(info.value)


def test_missing_empty_header_only(tmp_path, db):
    _bad(tmp_path / "nope.csv", db, "file not found")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty.csv" in _bad(empty, db, "empty")
    header = tmp_path / "header.csv"
    header.write_text("a,b,c\n", encoding="utf-8")
    _bad(header, db, "header but no data rows")


def test_binary_renamed_csv(tmp_path, db):
    fake = tmp_path / "photo.csv"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    _bad(fake, db, "binary")


def test_gbk_csv_is_transcoded(tmp_path, db):
    path = tmp_path / "gbk.csv"
    path.write_bytes("炉温,良率\n850,0.9\n860,0.95\n".encode("gbk"))
    info = api.ingest(path, "gbk", db=db)
    assert list(info.columns) == ["炉温", "良率"]
    assert any("GB18030" in w for w in info.warnings)


def test_undecodable_text_names_the_line(tmp_path, db):
    path = tmp_path / "mixed.csv"
    good = "温度,良率\n" + "".join(f"{850 + i},0.9\n" for i in range(20000))
    path.write_bytes(good.encode("gbk") + b"\xff\xff,0.9\n")
    text = _bad(path, db, "not valid GB18030")
    assert "line 20002" in text


def test_utf8_with_bom_and_invalid_tail(tmp_path, db):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffa,b\n1,2\n".encode("utf-8"))
    assert list(api.ingest(bom, "bom", db=db).columns) == ["a", "b"]
    tail = tmp_path / "tail.csv"
    tail.write_bytes(("a,b\n" + "1,x\n" * 30000).encode() + b"2,\xe9t\xe9\n")
    # ASCII is Latin-1 too: the whole file is read (not its first bytes), the one Latin-1 line decoded, and said so
    info = api.ingest(tail, "tail", db=db)
    assert any("Windows-1252 / Latin-1" in w and "line 30002" in w for w in info.warnings), info.warnings
    assert api.catalog(db).read_table("tail")["b"].iloc[-1] == "été"
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(("a,b\n1,Müller\n" + "1,x\n" * 30000).encode() + b"2,\xe9t\xe9\n")
    _bad(mixed, db, "line 2 is UTF-8 but line 30003 is not")


def test_parquet_and_excel(tmp_path, db):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "name": ["a", "b", "c"]})
    con = duckdb.connect()
    con.register("f", frame)
    con.execute(f"COPY f TO '{tmp_path / 'f.parquet'}' (FORMAT parquet)")
    assert api.ingest(tmp_path / "f.parquet", "pq", db=db).rows == 3
    with pd.ExcelWriter(tmp_path / "book.xlsx") as writer:
        frame.to_excel(writer, sheet_name="first", index=False)
        (frame * 2).to_excel(writer, sheet_name="second", index=False)
    assert api.ingest(tmp_path / "book.xlsx", "xl", db=db, sheet="second").rows == 3
    assert Catalog(db).read_table("xl")["x"].tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(InvalidInput, match="no sheet 'third' — sheets in this workbook: first, second"):
        api.ingest(tmp_path / "book.xlsx", "xl2", db=db, sheet="third")


@pytest.mark.parametrize("sql, match", [
    ("DROP TABLE concrete", "not DROP"),
    ("INSERT INTO concrete SELECT * FROM concrete", "not INSERT"),
    ("ATTACH 'other.duckdb' AS o", "not ATTACH"),
    ("SELECT 1; DROP TABLE concrete", "single SELECT statement"),
    ("SELECT * FROM read_csv('/etc/passwd')", "table functions"),
    ("SELECT * FROM '/etc/hosts'", "unknown table"),
    ("SELECT * FROM _studio_runs", "internal or system tables"),
    ("SELEC * FROM concrete", "does not parse"),
])
def test_sql_binding_refuses_anything_but_one_select(demo_db, sql, match):
    before = _snapshot(demo_db)
    with pytest.raises(InvalidInput, match=match):
        binding.resolve(DataBinding(sql=sql), Catalog(demo_db))
    assert _snapshot(demo_db) == before


def test_sql_binding_select_works(demo_db):
    source = binding.resolve(DataBinding(sql="SELECT * FROM concrete WHERE age_days = 28"), Catalog(demo_db))
    frame = source.load()
    assert len(frame) == 425 and set(frame["age_days"]) == {28}
    assert source.rows == 425
    assert check_select('SELECT * FROM "concrete" c JOIN ccpp USING (rowid)', ["concrete", "ccpp"]) == [
        "concrete", "ccpp"]
