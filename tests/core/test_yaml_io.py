import pytest

from engine.core.errors import InvalidInput
from engine.core.yaml_io import format_loc, load_file, loads


def test_positions_of_nested_keys():
    data, smap = loads("a:\n  b:\n    - x: 1\n    - y: 2\n", "f.yaml")
    assert data == {"a": {"b": [{"x": 1}, {"y": 2}]}}
    assert smap.line_for(("a", "b", 1, "y")) == 4
    assert smap.line_for(("a", "b", 0, "missing")) == 3  # nearest ancestor


def test_duplicate_key_is_an_error_with_both_lines():
    with pytest.raises(InvalidInput) as info:
        loads("name: a\nparams:\n  folds: 3\n  folds: 4\n", "r.yaml")
    text = str(info.value)
    assert "r.yaml:4: params.folds: duplicate key 'folds'" in text
    assert "line 3" in text


def test_syntax_error_names_file_and_line():
    with pytest.raises(InvalidInput) as info:
        loads("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    issue = info.value.issues[0]
    assert issue.file == "bad.yaml" and issue.line is not None and issue.line >= 2
    assert "YAML syntax error" in issue.message


def test_safe_loader_refuses_python_tags():
    with pytest.raises(InvalidInput):
        loads("x: !!python/object/apply:os.system ['echo hi']\n")


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InvalidInput, match="file not found"):
        load_file(tmp_path / "nope.yaml")
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("名称: 测试\n".encode("gbk"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_file(bad)


def test_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: 配方\n".encode("utf-8"))
    assert load_file(path)[0] == {"name": "配方"}


def test_format_loc():
    assert format_loc(("steps", 2, "with", "folds")) == "steps[2].with.folds"
