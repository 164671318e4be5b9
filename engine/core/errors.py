"""Errors that are product: each names where (file:line, key path) and what to do — in English and Chinese.

Messages and hints are `engine.core.i18n.Msg` (English str carrying `.zh`); `str()` stays English, `.text("zh")`
renders Chinese. See engine/core/i18n.py for how to write one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.core.i18n import Msg, text_of, zh


@dataclass(frozen=True)
class Issue:
    """One problem found in user input, formatted `file:line: key.path: message — hint`."""

    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None
    hint: str | None = None
    ui_hint: str | None = None   # what to do on the studio's screens, where the hint names a CLI flag

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str | None = "en") -> str:
        """The issue in `lang` ("en" or "zh"); file, line and key path stay as they are."""
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.path}: " if self.path else ""
        hint = f" — {text_of(self.hint, lang)}" if self.hint else ""
        return f"{where}{key}{text_of(self.message, lang)}{hint}"

    def body(self, lang: str | None = "en") -> str:
        """Message and hint only (shown beside the form field the issue names)."""
        return text_of(self.message, lang) + (f" — {text_of(self.hint, lang)}" if self.hint else "")

    def on_screen(self, files: dict[str, str] | None = None) -> "Issue":
        """The issue as a page shows it: the screen hint, and each of `files` (a temporary path) by its own name."""
        files = files or {}

        def named(text):
            if text is None:
                return None
            en, cn = text_of(text, "en"), zh(text)
            for path, name in files.items():
                en, cn = en.replace(path, name), cn.replace(path, name)
            return Msg(en, cn)
        return replace(self, message=named(self.message), file=files.get(self.file, self.file),
                       hint=named(self.ui_hint or self.hint), ui_hint=None)

    def to_dict(self) -> dict:
        out = {k: (str(v) if isinstance(v, Msg) else v) for k, v in self.__dict__.items()
               if v is not None and k != "ui_hint"}
        out["zh"] = self.text("zh")
        return out


class StudioError(Exception):
    """Base of every error the engine raises on purpose; its text is shown to the user as is."""

    exit_code = 2

    def text(self, lang: str | None = "en") -> str:
        """The message in `lang` (Chinese when it was raised with a Msg)."""
        return text_of(self.args[0], lang) if self.args else type(self).__name__

    @property
    def msg(self) -> Msg:
        """The message in both languages, to wrap into another error or store."""
        return Msg(self.text("en"), self.text("zh"))


class InvalidInput(StudioError):
    """One or more problems with the user's files, data or choices (CLI exit 2)."""

    def __init__(self, issues: list[Issue] | Issue | str):
        if isinstance(issues, str):
            issues = [Issue(issues)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues = list(issues)
        super().__init__(Msg("\n".join(i.text("en") for i in self.issues), "\n".join(i.text("zh") for i in self.issues)))

    def text(self, lang: str | None = "en") -> str:
        return "\n".join(i.text(lang) for i in self.issues)

    def on_screen(self, files: dict[str, str] | None = None) -> "InvalidInput":
        """The same problems as a page shows them (see Issue.on_screen)."""
        return InvalidInput([i.on_screen(files) for i in self.issues])


class RunFailed(StudioError):
    """A pipeline step raised: the run is marked failed (CLI exit 1)."""

    exit_code = 1

    def __init__(self, run_id: str, step_id: str | None, message: str):
        self.run_id, self.step_id = run_id, step_id
        where, where_zh = (f" at step '{step_id}'", f"（步骤 '{step_id}'）") if step_id else ("", "")
        super().__init__(Msg(f"run {run_id} failed{where}: {message}", f"运行 {run_id} 失败{where_zh}：{zh(message)}"))


class Busy(StudioError):
    """The data factory is held by another process for longer than the wait allows."""

    exit_code = 1
