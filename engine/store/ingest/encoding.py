"""Which text encoding a whole file is in — decided over every line, not the first bytes.

UTF-8 is checked over the whole file (fast: C-speed decoding block by block). A file that is not UTF-8 is read
as Windows-1252 (Western European: Müller, Größe) when its non-ASCII bytes stand alone between ASCII letters, and as
GB18030 (GBK, Chinese) when they come in pairs — both are reported as warnings. A file mixing UTF-8 lines with lines
in another encoding is refused, naming one line of each: guessing would silently garble half of it ('M眉ller').
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

BLOCK = 1 << 20
_HIGH = re.compile(rb"[\x80-\xff]+")
_LONE_HIGH = re.compile(rb"[\x00-\x7f][\x80-\xff][\x00-\x7f]")  # é in 'été' (Latin-1); never in GBK
_UNDEFINED_1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# zero-width matches over a block decoded with surrogateescape (a byte that is not UTF-8 becomes \udc80-\udcff):
# a non-ASCII line that is all UTF-8, and a line holding a byte that is not UTF-8
_UTF8_LINE = re.compile(r"^(?=[^\n\udc80-\udcff]*[\u0080-\udc7f\udd00-\U0010ffff][^\n\udc80-\udcff]*$)", re.M)
_OTHER_LINE = re.compile(r"^[^\n\udc80-\udcff]*[\udc80-\udcff]", re.M)
_EXPORT_AGAIN = Msg("export the file again as UTF-8 (Excel: Save As → CSV UTF-8)",
                    "请重新导出为 UTF-8（Excel：另存为 → CSV UTF-8）")


def _binary(path: Path) -> InvalidInput:
    return InvalidInput(Issue(Msg("this looks like a binary file, not text (it contains NUL bytes)",
                                  "这看起来是二进制文件，不是文本（含有 NUL 字节）"), str(path),
                              hint=Msg("export the sheet as CSV, or upload the Excel/Parquet file itself",
                                       "请把表格导出为 CSV，或直接上传 Excel/Parquet 文件")))


def _mixed(path: Path, utf8_line: int, other_line: int) -> InvalidInput:
    return InvalidInput(Issue(
        Msg(f"the file mixes text encodings: line {utf8_line} is UTF-8 but line {other_line} is not (Latin-1, "
            f"Windows-1252 or GBK?); reading it either way would garble one of them",
            f"文件混用了多种文本编码：第 {utf8_line} 行是 UTF-8，第 {other_line} 行不是（Latin-1、Windows-1252 或 GBK？）；"
            f"无论按哪种读取都会有一部分变成乱码"),
        str(path), line=other_line, hint=_EXPORT_AGAIN))


def scan_encoding(path: Path) -> tuple[str, list[Msg]]:
    """(encoding, warnings) of a text file (utf-8, utf-16, cp1252, latin-1 or gb18030); raises InvalidInput for binary files and mixed encodings."""
    with Path(path).open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", [Msg("text encoding UTF-16 converted to UTF-8", "文本编码 UTF-16 已转换为 UTF-8")]
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        line, first_utf8 = 1, None
        while block := fh.read(BLOCK):
            if b"\x00" in block:
                raise _binary(path)
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                start = max(exc.start - len(decoder.getstate()[0]), 0)
                line_start = block.rfind(b"\n", 0, start) + 1
                tally = _Tally(first_utf8)
                tally.lines(block[:line_start], line)
                line += block[:line_start].count(b"\n")
                return tally.finish(path, fh, block[line_start:], line)
            if first_utf8 is None and not block.isascii():
                first_utf8 = _first_high_line(block, line)
            line += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass  # a cut multi-byte character at the very end: DuckDB reports it on its line
    return "utf-8", []


def _first_high_line(data: bytes, line: int) -> int | None:
    found = _HIGH.search(data)
    return None if found is None else line + data[:found.start()].count(b"\n")


class _Tally:
    """Non-ASCII lines that are UTF-8 and that are not, and how their non-ASCII bytes group (lone or paired)."""

    def __init__(self, first_utf8: int | None):
        self.utf8, self.other = int(first_utf8 is not None), 0
        self.first_utf8, self.first_other = first_utf8, None
        self.single = self.paired = 0
        self.undefined_1252 = False

    def lines(self, data: bytes, line: int) -> int:
        """Tally the complete lines in `data` (starting at `line`); the next line number. Regular expressions over
        the whole block do the work (a Python loop per line made a 50 MB GBK file take 14 s; this, about 4 s)."""
        if data.isascii():
            return line + data.count(b"\n")
        text = data.decode("utf-8", errors="surrogateescape")
        utf8 = len(_UTF8_LINE.findall(text))
        if utf8:
            self.utf8 += utf8
            self.first_utf8 = self.first_utf8 or line + text.count("\n", 0, _UTF8_LINE.search(text).start())
        other = len(_OTHER_LINE.findall(text))
        if other:
            self.other += other
            self.first_other = self.first_other or line + text.count("\n", 0, _OTHER_LINE.search(text).start())
            if not self.single:  # one lone byte settles it
                self.single += 1 if _LONE_HIGH.search(b"\n" + data) else 0
            self.paired += 1
            self.undefined_1252 = self.undefined_1252 or bool(_UNDEFINED_1252.search(data))
        return line + data.count(b"\n")

    def finish(self, path: Path, fh, rest: bytes, line: int) -> tuple[str, list[Msg]]:
        while True:
            block = fh.read(BLOCK)
            if block and b"\x00" in block:
                raise _binary(path)
            rest += block
            cut = rest.rfind(b"\n") + 1 if block else len(rest)
            line = self.lines(rest[:cut], line) - (0 if block else 1)
            rest = rest[cut:]
            if not block:
                break
        western = self.single > 0  # a GBK character is two bytes, so GBK text never has a lone non-ASCII byte
        # GBK pairs are valid UTF-8 by chance now and then; a lone Western byte never is
        if self.utf8 and (western or self.utf8 * 10 >= self.other):
            raise _mixed(path, self.first_utf8, self.first_other)
        if western:
            return "latin-1" if self.undefined_1252 else "cp1252", [Msg(f"text encoding Windows-1252 / Latin-1 (Western European) detected (first on line "
                                  f"{self.first_other}) and converted to UTF-8 — check a few accented letters",
                                  f"识别为 Windows-1252 / Latin-1（西欧）编码（首次出现在第 {self.first_other} 行），"
                                  f"已转换为 UTF-8——请抽查几个带重音的字母")]
        return "gb18030", [Msg("text encoding GB18030 converted to UTF-8", "文本编码 GB18030 已转换为 UTF-8")]
