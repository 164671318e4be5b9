"""The hardening corpus (issue 22): hostile and broken inputs through the CLI, each with what must happen.

A case is argv for `python -m engine` (run in-process through the CLI's main), the files it needs, the exit code,
the words its message must contain (the offending file / line / key, and what to do) and whether the data
factory may change (only valid inputs, accepted with a warning). `{d}` in argv and files is the case's folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

GOOD_ROWS = "".join(f"{(i * 37) % 100 / 10:.1f},{(i * 53) % 90 / 9:.2f},{i % 3},{'AB'[i % 2]},"
                    f"{(i * 29) % 70 / 7 + i % 5:.3f}\n" for i in range(60))
GOOD_CSV = "x1,x2,grade,label,y\n" + GOOD_ROWS  # the table "good": 60 rows, a varying target y
TABLES = {  # the data factory every case starts from
    "good": GOOD_CSV,
    "tiny1": "x1,x2,y\n1,2,3\n",
    "tiny3": "x1,x2,y\n1,2,3\n2,3,4\n3,4,6\n",
    "const": "x1,x2,y\n" + "".join(f"{i},{i % 7},5\n" for i in range(40)),
    "empty_target": "x1,x2,y\n" + "".join(f"{i},{i % 7},\n" for i in range(40)),
}


@dataclass
class Case:
    id: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    rc: int = 2
    says: tuple[str, ...] = ()          # each must appear in the output (names the file/line/key, the problem)
    advice: bool = True                 # the message says what to do (" — hint")
    env: dict[str, str] = field(default_factory=dict)
    changes: bool = False               # valid input: the data factory gains what it says (with the warning)
    setup: str | None = None            # "fifo": make {d}/pipe.csv a FIFO; "symlink": {d}/pw.csv -> /etc/passwd


def recipe(data: str, roles: str = "{target: y, controllable: [x1, x2]}", extra: str = "",
           template: str = "quick_model") -> str:
    return f"template: {template}\nname: t\ndata: {data}\nroles: {roles}\n{extra}"


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb() -> str:
    lines = ["m0: &m0 {k0: 1, k1: 2}"]
    for i in range(1, 12):
        lines.append(f"m{i}: &m{i} {{<<: [" + ",".join([f"*m{i - 1}"] * 9) + "]}")
    return "\n".join(lines) + "\n"


# -- YAML that must never reach the engine's memory or stack: through validate and run ------------------------
YAML_BAD = {
    "alias_bomb": (_bomb(), ("bomb.yaml", "aliases are expanded", "AI_STUDIO_MAX_YAML_NODES")),
    "alias_bomb_small_levels": (_bomb(6, 12), ("bomb.yaml", "aliases are expanded")),
    "merge_key_bomb": (_merge_bomb(), ("bomb.yaml", "aliases are expanded", "AI_STUDIO_MAX_YAML_NODES")),
    "deep_list_5000": ("x: " + "[" * 5000 + "]" * 5000 + "\n", ("bomb.yaml:1", "nested more than 64")),
    "deep_map_200": ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n",
                     ("bomb.yaml", "nested more than 64")),
    "deep_flow_map": ("x: " + "{a: " * 300 + "1" + "}" * 300 + "\n", ("nested more than 64",)),
    "recursive_alias": ("a: &a [*a]\n", ("bomb.yaml:1", "refers to the list or mapping it is in")),
    "too_many_aliases": ("s: &s 1\nl: [" + ",".join(["*s"] * 1200) + "]\n", ("more than 1000 aliases",)),
    "tab_indent": ("template: quick_model\nroles:\n\ttarget: y\n", ("bomb.yaml:3", "Tab", "indentation")),
    "unclosed_bracket": ("template: quick_model\nroles: [a, b\n", ("bomb.yaml", "YAML syntax error")),
    "unclosed_quote": ('template: "quick_model\nname: t\n', ("bomb.yaml", "YAML syntax error")),
    "colon_in_value": ("template: quick_model\nname: a: b\n", ("bomb.yaml:2", "mapping values")),
    "duplicate_key": ("template: quick_model\nname: a\nname: b\n", ("bomb.yaml:3", "duplicate key 'name'", "line 2")),
    "python_tag": ("template: !!python/object/apply:os.system ['echo hi']\n", ("bomb.yaml:1",)),
    "custom_tag_map": ("template: !include {a: 1}\n", ("bomb.yaml:1", "tag")),
    "undefined_alias": ("template: *nope\n", ("bomb.yaml:1", "undefined alias")),
    "complex_key": ("? [a, b]\n: 1\n", ("bomb.yaml", "plain value")),
    "top_level_list": ("- a\n- b\n", ("bomb.yaml",)),
    "top_level_scalar": ("just text\n", ("bomb.yaml",)),
    "empty_file": ("", ("bomb.yaml",)),
    "only_comment": ("# nothing here\n", ("bomb.yaml",)),
    "latin1_bytes": ("template: quick_model\nname: M\xfcller\n".encode("latin-1"), ("bomb.yaml", "not UTF-8")),
    "nul_bytes": (b"template: quick_model\x00\x00\n", ("bomb.yaml",)),
    "size_over_limit": ("# " + "x" * 3000 + "\n", ("bomb.yaml", "above the YAML limit", "AI_STUDIO_MAX_YAML_KB")),
}
YAML_ENV = {"size_over_limit": {"AI_STUDIO_MAX_YAML_KB": "2"}}


def yaml_cases() -> list[Case]:
    out = []
    for name, (text, says) in YAML_BAD.items():
        env = YAML_ENV.get(name, {})
        for command in ("validate", "run"):
            out.append(Case(f"yaml-{command}-{name}", [command, "{d}/bomb.yaml"], {"bomb.yaml": text}, says=says,
                            env=env, advice=name not in ("top_level_list", "top_level_scalar", "empty_file",
                                                         "only_comment", "nul_bytes", "python_tag")))
    out += [
        Case("yaml-validate-folder", ["validate", "{d}"], says=("is a folder", ".yaml")),
        Case("yaml-run-folder", ["run", "{d}"], says=("is a folder",)),
        Case("yaml-validate-device", ["validate", "/dev/zero"], says=("/dev/zero", "not a regular file")),
        Case("yaml-run-missing", ["run", "{d}/nope.yaml"], says=("file not found", "nope.yaml")),
        Case("yaml-set-bomb", ["run", "{d}/r.yaml", "--set", "folds=" + _bomb().replace("\n", "\n")],
             {"r.yaml": recipe("{table: good}")}, says=("--set",), advice=True),
        Case("yaml-set-deep", ["run", "{d}/r.yaml", "--set", "folds=" + "[" * 3000 + "]" * 3000],
             {"r.yaml": recipe("{table: good}")}, says=("--set", "nested more than 64")),
    ]
    return out


# -- recipes: wrong in content, through validate (and run for the ones found late before) ---------------------
RECIPES_BAD = {
    # id: (recipe text, words)
    "no_template": ("name: t\ndata: {table: good}\nroles: {target: y}\n", ("r.yaml", "template", "missing")),
    "unknown_template": (recipe("{table: good}", template="no_such"), ("r.yaml:1", "no_such")),
    "bad_pin_regex": (recipe("{table: good}", template="quick_model@abc"),
                      ("r.yaml:1", "not a template id", "quick_model@1.0.0")),
    "bad_pin_case": (recipe("{table: good}", template="Quick_Model"), ("r.yaml:1", "not a template id")),
    "unknown_version": (recipe("{table: good}", template="quick_model@9.9.9"), ("r.yaml:1", "9.9.9", "1.0.0")),
    "name_newline": ('template: quick_model\nname: "a\\nb"\ndata: {table: good}\nroles: {target: y, controllable: [x1]}\n',
                     ("r.yaml:2", "single line")),
    "no_data": ("template: quick_model\nname: t\nroles: {target: y}\n", ("r.yaml", "data", "missing")),
    "data_two_kinds": (recipe("{table: good, sql: 'SELECT * FROM good'}"), ("r.yaml:3", "exactly one")),
    "data_unknown_table": (recipe("{table: nope}"), ("no table 'nope'",)),
    "data_table_typo": (recipe("{table: goood}"), ("no table 'goood'", "did you mean 'good'")),
    "sql_delete": (recipe('{sql: "DELETE FROM good"}'), ("data.sql", "not DELETE")),
    "sql_drop": (recipe('{sql: "DROP TABLE good"}'), ("data.sql", "read-only SELECT")),
    "sql_two_statements": (recipe('{sql: "SELECT * FROM good; DROP TABLE good"}'), ("data.sql", "2 statements")),
    "sql_attach": (recipe('{sql: "ATTACH \'/tmp/x.db\'"}'), ("data.sql", "read-only SELECT")),
    "sql_copy": (recipe('{sql: "COPY good TO \'/tmp/x.csv\'"}'), ("data.sql", "read-only SELECT")),
    "sql_pragma": (recipe('{sql: "PRAGMA database_list"}'), ("data.sql",)),
    "sql_set": (recipe('{sql: "SET threads = 1"}'), ("data.sql", "read-only SELECT")),
    "sql_install": (recipe('{sql: "INSTALL httpfs"}'), ("data.sql", "read-only SELECT")),
    "sql_read_csv": (recipe('{sql: "SELECT * FROM read_csv(\'/etc/passwd\')"}'), ("data.sql", "table functions (read_csv)")),
    "sql_read_text": (recipe('{sql: "SELECT * FROM read_text(\'/etc/passwd\')"}'), ("data.sql", "read_text")),
    "sql_glob": (recipe('{sql: "SELECT * FROM glob(\'/etc/*\')"}'), ("data.sql", "glob")),
    "sql_duckdb_tables_fn": (recipe('{sql: "SELECT * FROM duckdb_tables()"}'), ("data.sql", "duckdb_tables")),
    "sql_show_all_tables": (recipe('{sql: "SELECT * FROM (SHOW ALL TABLES)"}'), ("data.sql", "not SHOW")),
    "sql_show": (recipe('{sql: "SHOW TABLES"}'), ("data.sql",)),
    "sql_describe_sub": (recipe('{sql: "SELECT * FROM (DESCRIBE good)"}'), ("data.sql", "DESCRIBE")),
    "sql_summarize": (recipe('{sql: "SUMMARIZE good"}'), ("data.sql", "SUMMARIZE")),
    "sql_internal_tables": (recipe('{sql: "SELECT * FROM _studio_tables"}'), ("data.sql", "_studio_tables", "internal")),
    "sql_internal_runs_sub": (recipe('{sql: "SELECT * FROM good WHERE y IN (SELECT seconds FROM _studio_runs)"}'),
                              ("data.sql", "_studio_runs")),
    "sql_internal_cte": (recipe('{sql: "WITH r AS (SELECT * FROM _studio_trials) SELECT * FROM good"}'),
                         ("data.sql", "_studio_trials")),
    "sql_information_schema": (recipe('{sql: "SELECT * FROM information_schema.tables"}'),
                               ("data.sql", "information_schema.tables")),
    "sql_qualified_main": (recipe('{sql: "SELECT * FROM other.main.good"}'), ("data.sql", "other.main.good")),
    "sql_pivot": (recipe('{sql: "SELECT * FROM (PIVOT good ON grade USING sum(y))"}'), ("data.sql", "PIVOT")),
    "sql_syntax": (recipe('{sql: "SELECT * FORM good"}'), ("data.sql", "does not parse", "SELECT ... FROM")),
    "sql_unknown_column": (recipe('{sql: "SELECT nope FROM good"}'), ("data.sql", "nope", "column")),
    "sql_unknown_table": (recipe('{sql: "SELECT * FROM nope"}'), ("data.sql", "unknown table", "good")),
    "sql_too_few_rows": (recipe('{sql: "SELECT * FROM good LIMIT 3"}'), ("roles.target", "only 3 row", "at least 10")),
    "file_symlink_passwd": (recipe("{file: pw.csv}"), ("data.file", "outside the folders", "/etc/passwd",
                                                        "AI_STUDIO_FILE_ROOTS")),
    "file_dotdot_escape": (recipe("{file: ../../../../../../etc/passwd.csv}"), ("data.file", "outside the folders")),
    "file_missing": (recipe("{file: nope.csv}"), ("nope.csv", "not found")),
    "file_folder": (recipe("{file: sub}"), ("sub", "is a folder")),
    "file_fifo": (recipe("{file: pipe.csv}"), ("pipe.csv", "pipe or a device")),
    "file_device": (recipe("{file: /dev/zero}"), ("outside the folders",)),
    "file_bad_ext": (recipe("{file: notes.docx}"), ("notes.docx", "unsupported file type")),
    "role_mapping": (recipe("{table: good}", roles="{target: {a: 1}, controllable: [x1]}"),
                     ("r.yaml:4", "roles.target", "not a mapping")),
    "role_number": (recipe("{table: good}", roles="{target: 5, controllable: [x1]}"), ("r.yaml:4", "roles.target")),
    "target_unknown_column": (recipe("{table: good}", roles="{target: yy, controllable: [x1]}"),
                              ("r.yaml:4", "roles.target", "'yy'", "did you mean 'y'")),
    "target_two_columns": (recipe("{table: good}", roles="{target: [y, x2], controllable: [x1]}"),
                           ("roles.target", "at most 1")),
    "column_two_roles": (recipe("{table: good}", roles="{target: y, controllable: [x1, y]}"), ("both",)),
    "unknown_role": (recipe("{table: good}", roles="{target: y, controllable: [x1], colour: [x2]}"),
                     ("roles.colour", "unknown key")),
    "unknown_top_key": (recipe("{table: good}", extra="flavour: 1\n"), ("r.yaml:5", "flavour", "allowed keys")),
    "param_unknown": (recipe("{table: good}", extra="params: {foldz: 3}\n"), ("params", "foldz")),
    "param_out_of_range": (recipe("{table: good}", extra="params: {folds: 1000}\n"), ("params.folds",)),
    "param_wrong_type": (recipe("{table: good}", extra="params: {folds: abc}\n"), ("params.folds",)),
    "expert_bounds_reversed": (recipe("{table: good}", extra="expert: {bounds: {x1: [9, 1]}}\n"), ("expert.bounds", "low")),
    "expert_monotone_2": (recipe("{table: good}", extra="expert: {monotone: {x1: 2}}\n"), ("expert.monotone",)),
    "expert_unknown_column": (recipe("{table: good}", extra="expert: {exclude: [nope]}\n"), ("expert.exclude", "nope")),
    "seed_negative": (recipe("{table: good}", extra="seed: -1\n"), ("r.yaml:5", "seed")),
    "tiny_1_row": (recipe("{table: tiny1}"), ("roles.target", "only 1 row", "at least 10")),
    "tiny_3_rows": (recipe("{table: tiny3}"), ("roles.target", "only 3 row", "at least 10")),
    "constant_target": (recipe("{table: const}"), ("roles.target", "same value in all 40 rows")),
    "missing_target": (recipe("{table: empty_target}"), ("roles.target", "empty in every row")),
    "target_text_column": (recipe("{table: good}", roles="{target: label, controllable: [x1]}"),
                           ("roles.target", "label")),
}
RUN_TOO = {"tiny_1_row", "tiny_3_rows", "constant_target", "missing_target", "sql_show_all_tables",
           "file_symlink_passwd", "role_mapping", "bad_pin_regex", "sql_internal_tables", "sql_too_few_rows"}
FILES_FOR_RECIPES = {"notes.docx": b"PK\x03\x04 not really", "sub/keep.txt": "x"}


def recipe_cases() -> list[Case]:
    out = []
    for name, (text, says) in RECIPES_BAD.items():
        files = {"r.yaml": text, **FILES_FOR_RECIPES}
        setup = "symlink" if "symlink" in name else ("fifo" if "fifo" in name else None)
        out.append(Case(f"recipe-validate-{name}", ["validate", "{d}/r.yaml"], files, says=says, setup=setup,
                        advice=name not in ADVICE_NOT_NEEDED))
        if name in RUN_TOO:
            out.append(Case(f"recipe-run-{name}", ["run", "{d}/r.yaml"], files, says=says, setup=setup,
                            advice=name not in ADVICE_NOT_NEEDED))
    out += [
        Case("recipe-validate-cte-accepted", ["validate", "{d}/r.yaml"],
             {"r.yaml": recipe('{sql: "WITH g AS (SELECT * FROM good WHERE x1 >= 0) SELECT * FROM g"}')}, rc=0,
             says=("ok",), advice=False),
        Case("recipe-run-set-unknown-key", ["run", "{d}/r.yaml", "--set", "foldz=3"], {"r.yaml": recipe("{table: good}")},
             says=("foldz",)),
        Case("recipe-run-set-no-equals", ["run", "{d}/r.yaml", "--set", "folds"], {"r.yaml": recipe("{table: good}")},
             says=("--set",)),
        Case("recipe-run-set-bad-type", ["run", "{d}/r.yaml", "--set", "folds=abc"], {"r.yaml": recipe("{table: good}")},
             says=("folds",)),
    ]
    return out


# things whose message is complete without a separate hint (it says the allowed values itself)
ADVICE_NOT_NEEDED = {"no_template", "no_data", "param_out_of_range", "param_wrong_type", "expert_monotone_2",
                     "seed_negative", "target_two_columns", "sql_show", "sql_pragma", "role_number",
                     "name_newline", "data_two_kinds", "unknown_template", "unknown_version", "sql_delete", "sql_drop",
                     "sql_attach", "sql_copy", "sql_set", "sql_install", "expert_bounds_reversed", "role_mapping",
                     "bad_pin_regex", "bad_pin_case", "file_missing"}


# -- ingest: broken files and flags --------------------------------------------------------------------------
def _wide(n: int) -> str:
    return ",".join(f"c{j}" for j in range(n)) + "\n" + ",".join("1" for _ in range(n)) + "\n"


def ingest_cases() -> list[Case]:
    ing = ["ingest"]
    C = Case
    out = [
        C("ingest-missing-file", ing + ["{d}/nope.csv", "--table", "t"], says=("nope.csv", "not found")),
        C("ingest-folder", ing + ["{d}/sub", "--table", "t"], {"sub/a.csv": "a\n1\n"}, says=("sub", "is a folder")),
        C("ingest-fifo", ing + ["{d}/pipe.csv", "--table", "t"], setup="fifo", says=("pipe.csv", "pipe or a device")),
        C("ingest-dev-zero", ing + ["/dev/zero", "--table", "t"], says=("/dev/zero", "pipe or a device")),
        C("ingest-dev-null", ing + ["/dev/null", "--table", "t"], says=("/dev/null", "pipe or a device")),
        C("ingest-empty-file", ing + ["{d}/e.csv", "--table", "t"], {"e.csv": ""}, says=("e.csv", "empty")),
        C("ingest-header-only", ing + ["{d}/h.csv", "--table", "t"], {"h.csv": "a,b\n"}, says=("h.csv", "no data rows")),
        C("ingest-only-newlines", ing + ["{d}/n.csv", "--table", "t"], {"n.csv": "\n\n\n\n"}, says=("n.csv", "blank lines")),
        C("ingest-only-spaces", ing + ["{d}/n.csv", "--table", "t"], {"n.csv": "  \n \n\t\n"}, says=("n.csv", "blank lines")),
        C("ingest-binary-nul", ing + ["{d}/b.csv", "--table", "t"], {"b.csv": b"a,b\n\x00\x01\x02,3\n"},
          says=("b.csv", "binary")),
        C("ingest-binary-late-nul", ing + ["{d}/b.csv", "--table", "t"],
          {"b.csv": b"a,b\n" + b"1,2\n" * 300000 + b"\x00\x00\n"}, says=("b.csv", "binary")),
        C("ingest-wrong-ext", ing + ["{d}/d.docx", "--table", "t"], {"d.docx": b"PK\x03\x04"}, says=("d.docx", "unsupported")),
        C("ingest-no-ext", ing + ["{d}/data", "--table", "t"], {"data": "a,b\n1,2\n"}, says=("data", "unsupported")),
        C("ingest-fake-xlsx-csv", ing + ["{d}/f.xlsx", "--table", "t"], {"f.xlsx": "a,b\n1,2\n"},
          says=("f.xlsx", "rename it to f.csv")),
        C("ingest-fake-xlsx-html", ing + ["{d}/f.xlsx", "--table", "t"], {"f.xlsx": "<html><table><tr><td>1</td></tr></table></html>"},
          says=("f.xlsx", "web page")),
        C("ingest-fake-xlsx-zip", ing + ["{d}/f.xlsx", "--table", "t"], {"f.xlsx": b"PK\x03\x04garbage-garbage"},
          says=("f.xlsx", "damaged or password-protected")),
        C("ingest-fake-xls", ing + ["{d}/f.xls", "--table", "t"], {"f.xls": b"\x01\x02\x03 not excel"},
          says=("f.xls", "Save As .xlsx")),
        C("ingest-fake-parquet", ing + ["{d}/f.parquet", "--table", "t"], {"f.parquet": b"PAR1 nonsense"},
          says=("f.parquet", "not a readable Parquet file")),
        C("ingest-unbalanced-quote", ing + ["{d}/q.csv", "--table", "t"], {"q.csv": 'a,b\n1,"abc\n2,3\n'},
          says=("q.csv:2", "never closed")),
        C("ingest-unbalanced-quote-late", ing + ["{d}/q.csv", "--table", "t"],
          {"q.csv": "a,b\n" + "1,2\n" * 500 + '3,"x\n4,5\n'}, says=("q.csv:502", "never closed")),
        C("ingest-too-many-fields", ing + ["{d}/r.csv", "--table", "t"], {"r.csv": "a,b\n1,2\n3,4,5\n6,7\n"},
          says=("r.csv", "line 3", "too many columns", "--skip-bad-rows")),
        C("ingest-too-few-fields", ing + ["{d}/r.csv", "--table", "t"],
          {"r.csv": "a,b,c\n" + "1,2,3\n" * 20 + "4\n" + "1,2,3\n" * 20}, says=("r.csv", "line 22")),
        C("ingest-mixed-utf8-latin1", ing + ["{d}/m.csv", "--table", "t"],
          {"m.csv": "name,v\nMüller,1\n".encode() + "Müller,2\n".encode("latin-1")},
          says=("m.csv:3", "line 2 is UTF-8 but line 3 is not", "export the file again as UTF-8")),
        C("ingest-mixed-latin1-utf8", ing + ["{d}/m.csv", "--table", "t"],
          {"m.csv": "name,v\n".encode() + "Größe,2\n".encode("latin-1") + "Größe,1\n".encode()},
          says=("m.csv", "mixes text encodings")),
        C("ingest-mixed-gbk-utf8", ing + ["{d}/m.csv", "--table", "t"],
          {"m.csv": "名称,v\n".encode() + "温度,2\n".encode("gbk")}, says=("m.csv", "mixes text encodings")),
        C("ingest-header-32768-blank-dupes", ing + ["{d}/w.csv", "--table", "t"], {"w.csv": "1," * 32768},
          says=("w.csv:1", "32,769 columns", "AI_STUDIO_MAX_COLUMNS")),
        C("ingest-header-over-env-limit", ing + ["{d}/w.csv", "--table", "t"], {"w.csv": _wide(50)},
          env={"AI_STUDIO_MAX_COLUMNS": "20"}, says=("w.csv", "50 columns", "limit of 20")),
        C("ingest-first-line-huge", ing + ["{d}/w.csv", "--table", "t"], {"w.csv": "a" * 300000},
          says=("w.csv:1", "longer than")),
        C("ingest-line-over-limit", ing + ["{d}/l.csv", "--table", "t"], {"l.csv": "a,b\n1,2\n3," + "x" * 3000 + "\n"},
          env={"AI_STUDIO_MAX_LINE_KB": "1"}, says=("l.csv", "3,003 bytes long", "AI_STUDIO_MAX_LINE_KB")),
        C("ingest-file-over-size-limit", ing + ["{d}/big.csv", "--table", "t"], {"big.csv": "a,b\n" + "1,2\n" * 2000},
          env={"AI_STUDIO_MAX_FILE_MB": "0.001"}, says=("big.csv", "above the limit", "AI_STUDIO_MAX_FILE_MB")),
        C("ingest-append-and-replace", ing + ["{d}/ok.csv", "--table", "good", "--append", "--replace"],
          {"ok.csv": GOOD_CSV}, says=("--append and --replace",)),
        C("ingest-append-missing-table", ing + ["{d}/ok.csv", "--table", "nope", "--append"], {"ok.csv": GOOD_CSV},
          says=("no table 'nope'",)),
        C("ingest-append-other-columns", ing + ["{d}/o.csv", "--table", "good", "--append"], {"o.csv": "p,q\n1,2\n"},
          says=("o.csv", "cannot append to 'good'", "missing column")),
        C("ingest-append-type-clash", ing + ["{d}/o.csv", "--table", "good", "--append"],
          {"o.csv": "x1,x2,grade,label,y\na,b,c,d,e\n"}, says=("o.csv", "cannot append", "'x1'")),
        C("ingest-create-existing", ing + ["{d}/ok.csv", "--table", "good"], {"ok.csv": GOOD_CSV},
          says=("table 'good' already exists", "--replace")),
        C("ingest-create-existing-case", ing + ["{d}/ok.csv", "--table", "GOOD"], {"ok.csv": GOOD_CSV},
          says=("collides with existing table 'good'",)),
        C("ingest-name-newline", ing + ["{d}/ok.csv", "--table", "a\nb"], {"ok.csv": GOOD_CSV},
          says=("control character", "U+000A")),
        C("ingest-name-tab", ing + ["{d}/ok.csv", "--table", "a\tb"], {"ok.csv": GOOD_CSV}, says=("U+0009",)),
        C("ingest-name-escape", ing + ["{d}/ok.csv", "--table", "a\x1b[31mred"], {"ok.csv": GOOD_CSV}, says=("U+001B",)),
        C("ingest-name-del", ing + ["{d}/ok.csv", "--table", "a\x7f"], {"ok.csv": GOOD_CSV}, says=("U+007F",)),
        C("ingest-name-spaces", ing + ["{d}/ok.csv", "--table", " padded "], {"ok.csv": GOOD_CSV},
          says=("starts or ends with spaces", "'padded'")),
        C("ingest-name-too-long", ing + ["{d}/ok.csv", "--table", "t" * 500], {"ok.csv": GOOD_CSV},
          says=("500 characters",)),
        C("ingest-name-internal", ing + ["{d}/ok.csv", "--table", "_studio_tables"], {"ok.csv": GOOD_CSV},
          says=("reserved",)),
        C("ingest-name-internal-case", ing + ["{d}/ok.csv", "--table", "_Studio_Runs"], {"ok.csv": GOOD_CSV},
          says=("reserved",)),
        C("ingest-name-empty", ing + ["{d}/ok.csv", "--table", ""], {"ok.csv": GOOD_CSV}, says=("table name is empty",)),
        C("ingest-name-blank", ing + ["{d}/ok.csv", "--table", "   "], {"ok.csv": GOOD_CSV}, says=("table name is empty",)),
        C("ingest-type-unknown-column", ing + ["{d}/ok.csv", "--table", "t", "--type", "nope=numeric"],
          {"ok.csv": GOOD_CSV}, says=("unknown column", "nope", "x1")),
        C("ingest-type-bad-kind", ing + ["{d}/ok.csv", "--table", "t", "--type", "x1=number"], {"ok.csv": GOOD_CSV},
          says=("--types.x1",), advice=False),
        C("ingest-type-no-equals", ing + ["{d}/ok.csv", "--table", "t", "--type", "x1"], {"ok.csv": GOOD_CSV},
          says=("--type 'x1'", "COLUMN=VALUE"), advice=False),
        C("ingest-format-bad-code", ing + ["{d}/ok.csv", "--table", "t", "--format", "x1=%Q%Q"], {"ok.csv": GOOD_CSV},
          says=("formats.x1", "'%Q%Q'", "strftime")),
        C("ingest-format-unknown-column", ing + ["{d}/ok.csv", "--table", "t", "--format", "nope=%Y"],
          {"ok.csv": GOOD_CSV}, says=("unknown column", "nope")),
        C("ingest-delimiter-bad", ing + ["{d}/ok.csv", "--table", "t", "--delimiter", "x"], {"ok.csv": GOOD_CSV},
          says=("--delimiter",), advice=False),
        C("ingest-excel-missing-sheet", ing + ["{d}/book.xlsx", "--table", "t", "--sheet", "Nope"],
          {"book.xlsx": "XLSX"}, says=("book.xlsx", "no sheet 'Nope'", "Sheet1")),
        C("ingest-db-is-csv", ["--db", "{d}/some.csv"] + ing + ["{d}/ok.csv", "--table", "t"],
          {"some.csv": "a,b\n1,2\n", "ok.csv": GOOD_CSV}, says=("some.csv", "not a data-factory (DuckDB) file", "ingest FILE")),
        C("ingest-db-new-csv-name", ["--db", "{d}/new.csv"] + ing + ["{d}/ok.csv", "--table", "t"], {"ok.csv": GOOD_CSV},
          says=("new.csv", "names a data file")),
        C("ingest-db-folder", ["--db", "{d}"] + ing + ["{d}/ok.csv", "--table", "t"], {"ok.csv": GOOD_CSV},
          says=("is a folder",)),
        C("ingest-db-garbage", ["--db", "{d}/x.duckdb"] + ing + ["{d}/ok.csv", "--table", "t"],
          {"x.duckdb": b"this is not a database at all", "ok.csv": GOOD_CSV}, says=("x.duckdb", "not a data-factory")),
    ]
    accepted = [  # valid inputs: stored correctly, and the warning says what was done
        C("accept-latin1", ing + ["{d}/l.csv", "--table", "acc"], {"l.csv": "name,v\nMüller,1\nGröße,2\n".encode("cp1252")},
          rc=0, says=("Windows-1252 / Latin-1", "line 2"), changes=True, advice=False),
        C("accept-gbk", ing + ["{d}/g.csv", "--table", "acc"], {"g.csv": "名称,温度\n甲,1\n乙,2\n".encode("gbk")},
          rc=0, says=("GB18030",), changes=True, advice=False),
        C("accept-utf16", ing + ["{d}/u.csv", "--table", "acc"], {"u.csv": "名称,v\n甲,1\n".encode("utf-16")},
          rc=0, says=("UTF-16",), changes=True, advice=False),
        C("accept-trailing-blank-lines", ing + ["{d}/t.csv", "--table", "acc"], {"t.csv": "a\n1\n2\n\n\n\n"},
          rc=0, says=("2 rows",), changes=True, advice=False),
        C("accept-mostly-numeric", ing + ["{d}/n.csv", "--table", "acc"], {"n.csv": "a,b\n1,2\n3,abc\n4,5\n"},
          rc=0, says=("column 'b'", "'abc'", "declare the column numeric"), changes=True, advice=False),
        C("accept-duplicate-headers", ing + ["{d}/d.csv", "--table", "acc"], {"d.csv": "a,a,,a\n1,2,3,4\n"},
          rc=0, says=("renamed columns", "'a' → 'a_2'", "column_3"), changes=True, advice=False),
        C("accept-inf", ing + ["{d}/i.csv", "--table", "acc"], {"i.csv": "a,b\n1,inf\n2,3\n"},
          rc=0, says=("infinite",), changes=True, advice=False),
        C("accept-bom", ing + ["{d}/b.csv", "--table", "acc"], {"b.csv": "\ufeffa,b\n1,2\n"}, rc=0,
          says=("1 rows × 2 columns",), changes=True, advice=False),
    ]
    return out + accepted


# -- other commands ------------------------------------------------------------------------------------------
def other_cases() -> list[Case]:
    C = Case
    return [
        C("tables-db-is-csv", ["--db", "{d}/some.csv", "tables"], {"some.csv": "a,b\n1,2\n"},
          says=("some.csv", "not a data-factory (DuckDB) file")),
        C("tables-db-folder", ["--db", "{d}", "tables"], says=("is a folder",)),
        C("runs-db-is-yaml", ["--db", "{d}/r.yaml", "runs"], {"r.yaml": "a: 1\n"}, says=("r.yaml", "not a data-factory")),
        C("drop-unknown", ["drop", "nope"], says=("no table 'nope'",)),
        C("drop-internal", ["drop", "_studio_tables"], says=("_studio_tables",)),
        C("profile-unknown", ["profile", "nope"], says=("no table 'nope'",)),
        C("profile-unknown-target", ["profile", "good", "--target", "nope"], says=("nope",)),
        C("derive-unknown-op", ["derive", "good", "--op", "no.such", "--into", "g2"], says=("no.such",)),
        C("derive-into-existing", ["derive", "good", "--op", "clean.impute", "--into", "tiny3"], says=("tiny3",)),
        C("derive-set-no-equals", ["derive", "good", "--op", "clean.impute", "--into", "g2", "--set", "x"],
          says=("--set 'x'",), advice=False),
        C("derive-set-bomb", ["derive", "good", "--op", "clean.impute", "--into", "g2", "--set", "x=" + _bomb()],
          says=("--set", "aliases")),
        C("report-unknown-run", ["report", "nope-run"], says=("nope-run",)),
        C("report-price-no-volume", ["report", "nope-run", "--price", "3"], says=("--volume",), advice=False),
        C("report-bad-format", ["report", "nope-run", "--format", "docx"], says=("invalid choice",), advice=False),
        C("trial-unknown-run", ["trial", "log", "nope-run", "--outcome", "1"], says=("nope-run",)),
        C("trial-set-bomb", ["trial", "log", "nope-run", "--outcome", "1", "--set", "x=" + _bomb()],
          says=("--set", "aliases are expanded")),
        C("trial-no-outcome", ["trial", "log", "nope-run"], says=("--outcome",), advice=False),
        C("schema-unknown-kind", ["schema", "nope"], says=("nope",)),
        C("schema-params-unknown-template", ["schema", "params:nope"], says=("nope",)),
        C("template-check-bad-ids", ["template", "check", "{d}/t.yaml"],
          {"t.yaml": "id: Bad-Id\nversion: 1.0\nscenario: x\ntitle: {en: a, zh: b}\nsteps:\n  - {id: s1, op: Clean.impute}\n"},
          says=("t.yaml:1", "'Bad-Id' is not an id", "write it in quotes", "'Clean.impute' is not an operator id"),
          advice=False),
        C("template-check-bomb", ["template", "check", "{d}/t.yaml"], {"t.yaml": _bomb()}, says=("t.yaml", "aliases")),
        C("template-check-missing", ["template", "check", "{d}/nope.yaml"], says=("nope.yaml", "not found")),
        C("template-dry-run-bomb", ["template", "dry-run", "{d}/t.yaml", "--table", "good"], {"t.yaml": _bomb()},
          says=("t.yaml", "aliases")),
        C("template-dry-run-unknown-table", ["template", "dry-run", "{d}/t.yaml", "--table", "nope"],
          {"t.yaml": (REPO / "templates" / "quick_model.yaml").read_text(encoding="utf-8")}, says=("no table 'nope'",)),
        C("template-dry-run-broken-draft", ["template", "dry-run", "{d}/t.yaml", "--table", "good"],
          {"t.yaml": "id: x\n"}, says=("t.yaml", "missing"), advice=False),
        C("migrate-missing", ["migrate", "{d}/nope.yaml"], says=("nope.yaml",)),
        C("migrate-bomb", ["migrate", "{d}/r.yaml"], {"r.yaml": _bomb()}, says=("r.yaml", "aliases")),
        C("unknown-command", ["frobnicate"], says=("invalid choice",), advice=False),
    ]


def all_cases() -> list[Case]:
    cases = yaml_cases() + recipe_cases() + ingest_cases() + other_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    return cases


def make_files(case: Case, folder) -> None:
    """Write a case's files (and its FIFO or symlink) into `folder`."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "XLSX":
            import pandas as pd

            pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_excel(path, sheet_name="Sheet1", index=False)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{d}", str(folder)), encoding="utf-8")
    if case.setup == "fifo":
        os.mkfifo(folder / "pipe.csv")
    if case.setup == "symlink":
        os.symlink("/etc/passwd", folder / "pw.csv")
