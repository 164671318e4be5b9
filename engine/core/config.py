"""Where the studio keeps its things: home folder, data-factory file, caches, runs, templates."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def studio_home() -> Path:
    """AI_STUDIO_HOME, else ~/.ai_studio."""
    return Path(os.environ.get("AI_STUDIO_HOME") or Path.home() / ".ai_studio").expanduser()


def db_path(override: str | os.PathLike | None = None) -> Path:
    """The data-factory file: the --db flag, else AI_STUDIO_DB, else <home>/studio.duckdb."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("AI_STUDIO_DB")
    return Path(env).expanduser() if env else studio_home() / "studio.duckdb"


def cache_dir(db: Path) -> Path:
    """Step cache lives beside the data factory so two factories never share results by accident."""
    return db.parent / f"{db.stem}.cache"


def runs_dir(db: Path) -> Path:
    return db.parent / f"{db.stem}.runs"


def template_dirs() -> list[Path]:
    """The bundled templates/ plus any folders listed in AI_STUDIO_TEMPLATES (os.pathsep separated)."""
    extra = [Path(p) for p in os.environ.get("AI_STUDIO_TEMPLATES", "").split(os.pathsep) if p]
    return [REPO_ROOT / "templates", *extra]
