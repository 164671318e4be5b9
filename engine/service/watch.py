"""A folder the MES drops files into, ingested into one growing table: each new file once, each grown text file
for its new complete lines only; a bad file moved aside to `rejected/` with a note saying why; nothing half-ingested.

How "once" and "nothing half" hold: a file is taken only when its size stayed the same over two polls (the MES has
finished writing it); of a text file only complete lines (up to the last newline) are read; the rows and the ledger
entry (file, bytes taken, hash of those bytes) are written in ONE data-factory transaction, so a crash leaves either
both or neither. A grown file is appended from where the ledger says it stopped — after checking the bytes before
that point are unchanged (a rewritten file is moved aside, never ingested twice).
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput, StudioError
from engine.core.i18n import Msg, zh
from engine.store.ingest import ingest_file
from engine.store.ingest.text import CSV_EXT, PARQUET_EXT
from engine.store import monitoring as ledger

REJECTED = "rejected"
_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".reason.txt")


@dataclass
class Event:
    """What happened to one file: kind = ingested | appended | rejected | skipped."""
    kind: str
    file: str
    rows: int = 0
    message: Msg | None = None

    def text(self, lang: str = "en") -> str:
        return f"{self.kind} {self.file}" + (f": {self.rows} rows" if self.rows else "") + \
            (f" — {self.message.text(lang)}" if self.message is not None else "")


@dataclass
class Watcher:
    folder: Path
    table: str
    catalog: Catalog
    sizes: dict[str, tuple[int, float]] = field(default_factory=dict)  # file -> (size, mtime) seen at the last poll

    def candidates(self) -> list[Path]:
        names = [p for p in sorted(self.folder.iterdir()) if p.is_file() and not p.name.startswith((".", "~$"))
                 and not p.name.lower().endswith(_SKIP_SUFFIXES)]
        return [p for p in names if p.suffix.lower() in (*CSV_EXT, *PARQUET_EXT, ".xlsx", ".xls", ".xlsm")]

    def poll(self) -> list[Event]:
        """One pass over the folder: take every file whose size held still since the previous pass."""
        events = []
        done = ledger.watched_files(self.catalog, str(self.folder))
        seen = {}
        for path in self.candidates():
            stat = path.stat()
            seen[path.name] = (stat.st_size, stat.st_mtime)
            if self.sizes.get(path.name) != seen[path.name]:
                continue  # new or still being written: look again next pass
            entry = done.get(path.name)
            if entry and entry["status"] == "ingested" and entry["size"] == stat.st_size:
                continue
            events.append(self._take(path, entry))
        self.sizes = seen
        return [e for e in events if e is not None]

    def _take(self, path: Path, entry: dict | None) -> Event | None:
        try:
            if entry and entry["status"] == "ingested":
                return self._grown(path, entry)
            return self._new(path)
        except InvalidInput as exc:
            return self._reject(path, Msg("; ".join(str(i.message) for i in exc.issues),
                                          "；".join(zh(i.message) for i in exc.issues)))
        except StudioError as exc:  # busy data factory: leave the file, try again next pass
            return Event("skipped", path.name, message=exc.msg)

    def _new(self, path: Path) -> Event:
        text = path.suffix.lower() in CSV_EXT
        data = path.read_bytes()
        end = (data.rfind(b"\n") + 1 or len(data)) if text else len(data)
        exists = any(t.lower() == self.table.lower() for t in self.catalog.table_names())
        with tempfile.TemporaryDirectory(prefix="watch-") as tmp:
            source = path
            if end < len(data):
                source = Path(tmp) / path.name
                source.write_bytes(data[:end])
            info = self._ingest(source, path, "append" if exists else "create", len(data[:end]), end,
                                hashlib.sha256(data[:end]).hexdigest())
        return Event("ingested", path.name, info["rows"])

    def _grown(self, path: Path, entry: dict) -> Event | None:
        if path.suffix.lower() not in CSV_EXT:
            raise InvalidInput(Msg(f"{path.name} changed after it was ingested; only text files may grow — drop the "
                                   f"new rows as a new file", f"{path.name} 在导入后被修改；只有文本文件可以追加内容 —— "
                                   f"请把新行放在一个新文件里"))
        data = path.read_bytes()
        offset = int(entry["offset"])
        if len(data) < offset or hashlib.sha256(data[:offset]).hexdigest() != entry["sha256"]:
            raise InvalidInput(Msg(f"{path.name} was rewritten after {entry['rows']} rows were ingested from it (its "
                                   f"first {offset} bytes changed); those rows stay, the file is set aside — drop "
                                   f"new rows as a new file", f"{path.name} 在导入 {entry['rows']} 行之后被改写（前 "
                                   f"{offset} 字节已变）；已导入的行保留，文件被移到一旁 —— 请把新行放在一个新文件里"))
        end = data.rfind(b"\n") + 1
        if end <= offset:
            return None  # no complete new line yet
        header = data[:data.find(b"\n") + 1]
        with tempfile.TemporaryDirectory(prefix="watch-") as tmp:
            part = Path(tmp) / path.name
            part.write_bytes(header + data[offset:end])
            info = self._ingest(part, path, "append", len(data[:end]), end, hashlib.sha256(data[:end]).hexdigest(),
                                previous_rows=int(entry["rows"]))
        return Event("appended", path.name, info["rows"] - int(entry["rows"]))

    def _ingest(self, source: Path, original: Path, mode: str, size: int, offset: int, sha: str,
                previous_rows: int = 0) -> dict:
        counted = {}
        before = self.catalog.table_info(self.table).rows if mode == "append" else 0

        def record(con, info):  # inside the ingest's transaction: rows and ledger entry commit together
            counted["rows"] = previous_rows + int(info.rows) - before
            ledger.record_file(con, self.catalog.path, str(self.folder), original.name, self.table, size, offset, sha,
                               counted["rows"], "ingested")

        ingest_file(self.catalog, source, self.table, {"mode": mode}, after=record)
        return counted

    def _reject(self, path: Path, why: Msg) -> Event:
        """Move the file into rejected/ with a note (en and zh) beside it; forget it in the ledger."""
        target_dir = self.folder / REJECTED
        target_dir.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / path.name
        if target.exists():
            target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(str(path), target)
        Path(f"{target}.reason.txt").write_text(f"{why}\n{why.zh}\n", encoding="utf-8")
        ledger.forget_file(self.catalog, str(self.folder), path.name)
        self.sizes.pop(path.name, None)
        return Event("rejected", path.name, message=Msg(f"{why} (moved to {target})", f"{why.zh}（已移到 {target}）"))


def watch(folder: str | Path, table: str, catalog: Catalog, *, interval: float = 2.0,
          on_event: Callable[[Event], None] = lambda e: None, after_ingest: Callable[[list[Event]], None] | None = None,
          stop: threading.Event | None = None, max_polls: int | None = None) -> int:
    """Poll `folder` every `interval` seconds until `stop` is set (SIGTERM / Ctrl-C set it too); returns the number
    of files ingested or appended. `after_ingest` runs after a pass that added rows (e.g. the monitor's check)."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise InvalidInput(Msg(f"no folder {folder}", f"没有文件夹 {folder}"))
    stop = stop or threading.Event()
    _stop_on_signals(stop)
    watcher, taken, polls = Watcher(folder, table, catalog), 0, 0
    while not stop.is_set():
        events = watcher.poll()
        for e in events:
            on_event(e)
        added = [e for e in events if e.kind in ("ingested", "appended")]
        taken += len(added)
        if added and after_ingest:
            after_ingest(added)
        polls += 1
        if max_polls is not None and polls >= max_polls:
            break
        stop.wait(interval)
    return taken


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
