"""Sniff a CSV export from its first lines: delimiter, junk lines above the header, column names, number format,
and day/month date columns. DuckDB's own sniffer is left to pick column types only: on ragged or junk-headed
files it can silently take a data line as the header."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from engine.store.ingest.options import NULL_TOKENS

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_RECORDS = 400
DEC_COMMA = re.compile(r"^[-+]?\d+,\d+$")
DEC_COMMA_GROUPED = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
DEC_POINT = re.compile(r"^[-+]?\d*\.\d+$")
DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass
class DateColumn:
    """A column written like 03/04/2024 [08:00[:00]]: day-first or month-first is decided on the whole column."""

    name: str
    sep: str
    year_digits: int
    time: str  # "", "%H:%M" or "%H:%M:%S"

    def format(self, day_first: bool) -> str:
        first, second = ("%d", "%m") if day_first else ("%m", "%d")
        year = "%Y" if self.year_digits == 4 else "%y"
        return f"{first}{self.sep}{second}{self.sep}{year}" + (f" {self.time}" if self.time else "")


@dataclass
class CsvDialect:
    delimiter: str
    skip: int  # physical lines above the header
    names: list[str]
    renames: list[tuple[str, str]] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None
    date_columns: list[DateColumn] = field(default_factory=list)
    null_tokens: list[str] = field(default_factory=lambda: [""])  # only those seen: each costs DuckDB time


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(first physical line, fields) of each complete record in the sample."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out, start = [], 1
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num + 1
            if len(out) >= SAMPLE_RECORDS:
                break
    except csv.Error:
        pass
    return out


def _score(records: list[tuple[int, list[str]]]) -> tuple[int, int]:
    """(lines having the typical field count, that count); the typical count is read off the second half of the
    sample so that title lines above the header do not decide it."""
    counts = [len(r) for _, r in records if any(f.strip() for f in r)]
    tail = counts[len(counts) // 2:] or counts
    if not tail:
        return 0, 0
    width = Counter(tail).most_common(1)[0][0]
    return (sum(c == width for c in counts) if width >= 2 else 0), width


def sniff(text: str, complete: bool, delimiter: str | None = None) -> CsvDialect:
    """Dialect of a CSV from its first characters (`complete` when the sample is the whole file)."""
    if not complete:  # drop the last, probably cut, line
        text = text[: text.rfind("\n") + 1] or text
    candidates = [delimiter] if delimiter else list(DELIMITERS)
    best = max(candidates, key=lambda d: _score(_records(text, d))[0])
    records = _records(text, best)
    _, width = _score(records)
    header_at = _header_index(records, width)
    line, header = records[header_at] if records else (1, [])
    names, renames = unique_names(header)
    body = [r for _, r in records[header_at + 1:] if len(r) == len(names)]
    decimal, thousands = _number_format(body, best)
    seen = {v.strip() for row in body for v in row}
    nulls = [""] + [t for t in NULL_TOKENS if t and t in seen]
    return CsvDialect(best, line - 1, names, renames, decimal, thousands, _date_columns(names, body), nulls)


def _header_index(records: list[tuple[int, list[str]]], width: int) -> int:
    """First record of the typical width after which (nearly) every record has that width."""
    for i, (_, row) in enumerate(records):
        if len(row) != width:
            continue
        rest = [len(r) == width for _, r in records[i + 1:] if any(f.strip() for f in r)]
        if not rest or sum(rest) >= 0.9 * len(rest):
            return i
    return 0


def unique_names(header: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Blank names become column_N, repeated names get _2, _3 ...; returns (names, [(original, new)])."""
    names, renames, seen, next_suffix = [], [], set(), {}
    for j, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff") or f"column_{j + 1}"
        base = name
        k = next_suffix.get(base.lower(), 2)  # linear: each base remembers its next free suffix
        while name.lower() in seen:
            name, k = f"{base}_{k}", k + 1
        next_suffix[base.lower()] = k
        seen.add(name.lower())
        if name != raw:
            renames.append((raw, name))
        names.append(name)
    return names, renames


def renamed_list(renames: list[tuple[str, str]], shown: int = 10) -> str:
    """"'a' → 'a_2', ..." for a warning: the first few, then how many more (a header can have thousands)."""
    listed = ", ".join(f"'{o}' → '{n}'" for o, n in renames[:shown])
    return listed + (f" … (+{len(renames) - shown})" if len(renames) > shown else "")


def _number_format(rows: list[list[str]], delimiter: str) -> tuple[str, str | None]:
    """(decimal separator, thousands separator or None) from how numbers are written in the sample."""
    values = [v.strip() for row in rows for v in row]
    comma_decimal = any(DEC_COMMA.match(v) or ("," in v and DEC_COMMA_GROUPED.match(v)) for v in values)
    point_decimal = any(DEC_POINT.match(v) and not DEC_COMMA_GROUPED.match(v) for v in values)
    if comma_decimal and not point_decimal and delimiter != ",":
        grouped = any("." in v and DEC_COMMA_GROUPED.match(v) for v in values)
        return ",", "." if grouped else None
    if any(THOUSANDS_COMMA.match(v) for v in values):
        return ".", ","
    return ".", None


def _date_columns(names: list[str], rows: list[list[str]]) -> list[DateColumn]:
    found = []
    for j, name in enumerate(names):
        values = [r[j].strip() for r in rows if r[j].strip()]
        matches = [DAY_MONTH.match(v) for v in values]
        if values and all(matches):
            m = matches[0]
            time = "" if m.group(5) is None else ("%H:%M:%S" if m.group(7) else "%H:%M")
            found.append(DateColumn(name, m.group(2), len(m.group(4)), time))
    return found
