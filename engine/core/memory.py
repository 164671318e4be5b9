"""The memory budget: how large a bound table may be in memory before a run trains on a sample of it.

One setting, one source of truth: `MEMORY_BUDGET` (its environment variables, default, bounds, zh/en label and help)
is read by the data binding (engine/store/reading.py), shown by `python -m engine settings`-style listings and the
Run page, and named in every message about sampling. The default is a share of the machine's RAM: a run's peak is
about 2.5 × the table it trains on (the table, a feature matrix, one fold's rows), so a tenth of RAM keeps the peak
near a quarter of it and leaves room for other runs and the web server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.core.i18n import Msg

BYTES_PER_CELL = 8          # a float64 / int64 cell, what pandas holds for a number


def total_ram_mb() -> float:
    """Physical memory of this machine in MB (a cgroup limit, when lower, counts instead)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        ram = 8192.0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path, encoding="ascii").read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) / 2**20 < ram:
            ram = int(text) / 2**20
    return ram


@dataclass(frozen=True)
class MemoryBudget:
    env_mb: str = "AI_STUDIO_MEMORY_BUDGET_MB"        # an absolute budget in MB (wins when set)
    env_share: str = "AI_STUDIO_MEMORY_SHARE"         # a share of RAM (0.01 .. 0.9)
    default_share: float = 0.10
    min_share: float = 0.01
    max_share: float = 0.9
    label: Msg = Msg("Memory budget for the training table (MB)", "训练数据表的内存预算（MB）")
    help: Msg = Msg("A bound table larger than this in memory (rows × columns × 8 bytes) is not loaded whole: the run "
                    "trains on a sample stratified by time (or by the target), and the result shows a learning curve "
                    "(accuracy against rows used) so you see whether more rows would help. Default: a tenth of RAM. "
                    "Set AI_STUDIO_MEMORY_BUDGET_MB (MB) or AI_STUDIO_MEMORY_SHARE (share of RAM).",
                    "绑定的数据表在内存中（行数 × 列数 × 8 字节）超过此值时不会整表载入：运行将在按时间（或按目标）分层的"
                    "样本上训练，结果中给出学习曲线（精度随所用行数的变化），便于判断更多数据是否有帮助。默认：内存的十分之一。"
                    "可设置 AI_STUDIO_MEMORY_BUDGET_MB（MB）或 AI_STUDIO_MEMORY_SHARE（占内存的比例）。")

    def share(self) -> float:
        raw = os.environ.get(self.env_share, "").strip()
        try:
            value = float(raw) if raw else self.default_share
        except ValueError:
            value = self.default_share
        return min(max(value, self.min_share), self.max_share)

    def mb(self) -> float:
        """The budget in MB: AI_STUDIO_MEMORY_BUDGET_MB, else the share of RAM."""
        raw = os.environ.get(self.env_mb, "").strip()
        try:
            if raw and float(raw) > 0:
                return float(raw)
        except ValueError:
            pass
        return round(total_ram_mb() * self.share(), 1)

    def source(self) -> str:
        return self.env_mb if os.environ.get(self.env_mb, "").strip() else (
            self.env_share if os.environ.get(self.env_share, "").strip() else "default")

    def describe(self) -> dict:
        return {"mb": self.mb(), "from": self.source(), "ram_mb": round(total_ram_mb(), 1),
                "share_default": self.default_share, "label": str(self.label), "label_zh": self.label.zh,
                "help": str(self.help), "help_zh": self.help.zh}


MEMORY_BUDGET = MemoryBudget()


def table_mb(rows: int, columns: int) -> float:
    """A table's size in memory as pandas numbers (rows × columns × 8 bytes), in MB."""
    return rows * columns * BYTES_PER_CELL / 2**20
