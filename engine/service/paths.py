"""Where a recipe coming through the studio or the REST API may read files from: the uploads folder of the studio
home and the folders listed in AI_STUDIO_DATA_ROOTS (os.pathsep-separated). No `..`, no symlink escaping them,
nothing else of the server's disk (/etc/passwd). The local CLI reads what its operating-system user can."""

from __future__ import annotations

import os
from pathlib import Path

from engine.core import config
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg


def uploads_dir(db=None) -> Path:
    return config.db_path(db).parent / "uploads"


def data_roots(db=None) -> list[Path]:
    extra = [Path(p).expanduser() for p in os.environ.get("AI_STUDIO_DATA_ROOTS", "").split(os.pathsep) if p]
    return [uploads_dir(db), *extra]


def check_readable(path: str, db=None, key: str = "data.file") -> Path:
    """The resolved path when it lies inside an allowed root; InvalidInput naming the roots otherwise."""
    roots = [r.resolve() for r in data_roots(db)]
    raw = Path(path).expanduser()
    listed = ", ".join(str(r) for r in roots)
    refuse = InvalidInput(Issue(Msg(f"the file '{path}' is outside the folders the studio may read",
                                    f"文件 '{path}' 不在工作室可读取的文件夹中"), path=key,
                                hint=Msg(f"upload it (POST /api/v1/tables or the Data factory page), or ask the "
                                         f"administrator to add its folder to AI_STUDIO_DATA_ROOTS; allowed: {listed}",
                                         f"请上传它（POST /api/v1/tables 或“数据工厂”页），或请管理员把它的文件夹加入 "
                                         f"AI_STUDIO_DATA_ROOTS；允许的文件夹：{listed}")))
    if ".." in raw.parts:
        raise refuse
    candidates = [raw] if raw.is_absolute() else [root / raw for root in roots]
    for candidate in candidates:
        resolved = candidate.resolve()
        if any(resolved == root or root in resolved.parents for root in roots):
            return resolved
    raise refuse


def check_recipe_files(recipe: dict, db=None) -> dict:
    """The recipe with its `{file: PATH}` binding resolved inside the allowed roots (other bindings unchanged)."""
    data = recipe.get("data") if isinstance(recipe, dict) else None
    if isinstance(data, dict) and isinstance(data.get("file"), str):
        return {**recipe, "data": {**data, "file": str(check_readable(data["file"], db))}}
    return recipe
