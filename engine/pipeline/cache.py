"""Content-addressed step cache kept with joblib: one file per step key, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import joblib


def step_key(op_id: str, op_version: int, code_hash: str, params: dict, seed: int, input_keys: dict[str, str]) -> str:
    """Hamilton-style key: operator identity and code + resolved params + seed + what its inputs were."""
    payload = json.dumps({"op": op_id, "v": op_version, "code": code_hash, "params": params, "seed": seed,
                          "inputs": input_keys}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class StepCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.joblib"

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> dict[str, Any]:
        return joblib.load(self._path(key))

    def put(self, key: str, outputs: dict[str, Any]) -> None:
        """Write to a temporary file, then rename: a crash never leaves a half-written entry."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump(outputs, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
