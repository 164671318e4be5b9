"""Resource limits on everything a page, an API call or the CLI can feed the engine.

Each limit is a setting (an environment variable, read when it is needed) with a default generous enough for
real plant data and small enough that a hostile or broken input is refused within seconds, never after minutes
of CPU or gigabytes of memory. A refusal names the limit and the setting that raises it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.core.i18n import Msg


@dataclass(frozen=True)
class Limit:
    env: str
    default: float
    en: str   # what is limited, e.g. "YAML text size (KB)"
    zh: str

    def value(self) -> float:
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            number = float(raw)
        except ValueError:
            return self.default
        return number if number > 0 else self.default

    def raise_hint(self) -> Msg:
        return Msg(f"or raise the limit with {self.env} (now {self.value():g})",
                   f"或用 {self.env} 调高上限（当前 {self.value():g}）")


YAML_KB = Limit("AI_STUDIO_MAX_YAML_KB", 1024, "YAML text size (KB)", "YAML 文本大小（KB）")
YAML_DEPTH = Limit("AI_STUDIO_MAX_YAML_DEPTH", 64, "YAML nesting depth", "YAML 嵌套深度")
YAML_NODES = Limit("AI_STUDIO_MAX_YAML_NODES", 200_000, "YAML values after alias expansion",
                   "展开别名后的 YAML 值个数")
YAML_ALIASES = Limit("AI_STUDIO_MAX_YAML_ALIASES", 1000, "YAML aliases (*name)", "YAML 别名（*name）个数")
COLUMNS = Limit("AI_STUDIO_MAX_COLUMNS", 10_000, "columns in a table", "表的列数")
LINE_KB = Limit("AI_STUDIO_MAX_LINE_KB", 1024, "length of one line of a text file (KB)", "文本文件单行长度（KB）")
FILE_MB = Limit("AI_STUDIO_MAX_FILE_MB", 4096, "file size (MB)", "文件大小（MB）")
RUN_SECONDS = Limit("AI_STUDIO_MAX_RUN_SECONDS", 4 * 3600, "wall time of one run (s)", "单次运行的时长（秒）")
RECORD_WAIT_SECONDS = Limit("AI_STUDIO_RECORD_WAIT_SECONDS", 24 * 3600,
                            "how long a finished run waits to record its result (s)", "运行完成后等待记录结果的时长（秒）")
TABLE_NAME_CHARS = Limit("AI_STUDIO_MAX_TABLE_NAME", 128, "length of a table name", "表名长度")

ALL = [YAML_KB, YAML_DEPTH, YAML_NODES, YAML_ALIASES, COLUMNS, LINE_KB, FILE_MB, RUN_SECONDS, RECORD_WAIT_SECONDS,
       TABLE_NAME_CHARS]
