"""What an operator sees of the run: its seed, a progress reporter and a cancel check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from engine.core.errors import StudioError
from engine.core.i18n import Msg


class Cancelled(StudioError):
    exit_code = 1


@dataclass
class StepContext:
    run_id: str
    step_id: str
    seed: int
    report: Callable[[float, str], None] = field(default=lambda fraction, message: None)
    cancelled: Callable[[], bool] = field(default=lambda: False)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress within the step (0..1); also the point where a cancel request takes effect."""
        if self.cancelled():
            raise Cancelled(Msg(f"run {self.run_id} cancelled during step '{self.step_id}'",
                                f"运行 {self.run_id} 在步骤 '{self.step_id}' 中被取消"))
        self.report(max(0.0, min(1.0, fraction)), message)
