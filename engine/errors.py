"""Errors that are product: each names where (file:line, key path) and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found in user input, formatted `file:line: key.path: message — hint`."""

    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.path}: " if self.path else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}{key}{self.message}{hint}"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class StudioError(Exception):
    """Base of every error the engine raises on purpose; its text is shown to the user as is."""

    exit_code = 2


class InvalidInput(StudioError):
    """One or more problems with the user's files, data or choices (CLI exit 2)."""

    def __init__(self, issues: list[Issue] | Issue | str):
        if isinstance(issues, str):
            issues = [Issue(issues)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class RunFailed(StudioError):
    """A pipeline step raised: the run is marked failed (CLI exit 1)."""

    exit_code = 1

    def __init__(self, run_id: str, step_id: str | None, message: str):
        self.run_id, self.step_id = run_id, step_id
        where = f" at step '{step_id}'" if step_id else ""
        super().__init__(f"run {run_id} failed{where}: {message}")


class Busy(StudioError):
    """The data factory is held by another process for longer than the wait allows."""

    exit_code = 1
