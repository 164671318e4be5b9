"""Issue 22's closing table: run the corpus through the CLI in-process and sort each case into
clear refusal / accepted with a warning (valid input) / unclear / accepted silently / wrong exit (or hang).

    .venv/bin/python tests/hardening/classify.py            # this checkout
    .venv/bin/python tests/hardening/classify.py --list     # and each case that is not clear

Each case gets 10 s (SIGALRM) and the process 3 GB of address space, so the unfixed code's bombs count as
'wrong exit / hang' instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from corpus import TABLES, all_cases, make_files  # noqa: E402


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def cli_main():
    try:
        from engine.cli.main import main
    except ImportError:
        from engine.cli import main
    return main


def run(case, folder: Path) -> tuple[int | str, str, float]:
    make_files(case, folder)
    saved = {k: os.environ.get(k) for k in case.env}
    os.environ.update(case.env)
    argv = [a.replace("{d}", str(folder)) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    signal.alarm(10)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                rc = cli_main()(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 2
    except Hang:
        rc = "hang"
    except MemoryError:
        rc = "memory"
    except BaseException as exc:  # noqa: BLE001 — anything escaping main() is a wrong exit
        rc = f"raised {type(exc).__name__}"
    finally:
        signal.alarm(0)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return rc, out.getvalue() + err.getvalue(), time.perf_counter() - started


def verdict(case, rc, output: str) -> str:
    if rc != 0 and rc != 2:
        return "wrong exit / hang"
    if "Traceback" in output or "internal error" in output:
        return "wrong exit / hang"
    if case.rc == 2 and rc == 0:
        return "accepted silently"
    if case.rc == 0 and rc == 2:
        return "wrong exit / hang"  # valid input refused
    if not all(words in output for words in case.says) or (case.advice and " — " not in output):
        return "accepted silently" if case.rc == 0 else "unclear"
    return "clear refusal" if case.rc == 2 else "accepted with warning"


def _names(api) -> list[str]:
    try:
        return [t.name for t in api.tables()]
    except Exception:  # noqa: BLE001 — the unfixed code may fail here too
        return list(TABLES)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    signal.signal(signal.SIGALRM, _alarm)
    root = Path(tempfile.mkdtemp(prefix="corpus-"))
    os.environ["AI_STUDIO_HOME"] = str(root / "home")
    os.environ.pop("AI_STUDIO_DB", None)
    (root / "home").mkdir()
    from engine import api

    for name, text in TABLES.items():
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
        api.ingest(root / f"{name}.csv", name)
    counts, notes = Counter(), []
    started = time.perf_counter()
    for i, case in enumerate(all_cases()):
        rc, output, seconds = run(case, root / f"case{i}")
        kind = verdict(case, rc, output)
        counts[kind] += 1
        if kind not in ("clear refusal", "accepted with warning"):
            notes.append(f"{kind:<18} {case.id}: exit {rc}: {output.strip()[:150]!r}")
        for extra in set(_names(api)) - set(TABLES):  # a case that stored a table (accepted, rightly or not)
            try:                                       # must not change what the next cases see
                api.catalog().drop(extra)
            except Exception:  # noqa: BLE001
                pass
    total = sum(counts.values())
    print(f"tried {total} in {time.perf_counter() - started:.1f} s")
    for kind in ("clear refusal", "accepted with warning", "unclear", "accepted silently", "wrong exit / hang"):
        print(f"  {kind:<22} {counts[kind]}")
    if args.list:
        print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
