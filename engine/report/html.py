"""Render a report (engine.report.model) as one self-contained HTML file: Plotly inline, no external URL."""

from __future__ import annotations

import html
import json
from functools import lru_cache

from plotly.offline import get_plotlyjs

CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", Arial, sans-serif;
       color: #1d2433; margin: 0 auto; max-width: 960px; padding: 24px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; border-bottom: 2px solid #264653; padding-bottom: 4px;
     margin-top: 28px; } .sub { color: #5c677d; margin: 0 0 16px; }
section { break-inside: auto; } .figure, table, .kpis { break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid #dde1e7; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f1f4f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpis { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.kpi { flex: 1 1 180px; border: 1px solid #dde1e7; border-radius: 8px; padding: 10px 12px; background: #fbfcfd; }
.kpi .label { color: #5c677d; font-size: 12px; } .kpi .value { font-size: 22px; font-weight: 600; }
.kpi .note { color: #5c677d; font-size: 12px; }
dl.kv { display: grid; grid-template-columns: 180px 1fr; gap: 4px 12px; margin: 8px 0; }
dl.kv dt { color: #5c677d; } dl.kv dd { margin: 0; }
pre { background: #f6f8fa; padding: 10px; font-size: 12px; white-space: pre-wrap; border-radius: 6px; }
.status-failed { color: #b00020; font-weight: 600; }
h2, h3 { break-after: avoid; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
.thumb { margin: 0; width: 150px; break-inside: avoid; } .thumb img { width: 150px; display: block; }
.thumb figcaption { font-size: 11px; color: #5c677d; word-break: break-all; }
.heat { position: relative; width: 150px; } .heat .box { position: absolute; border: 2px solid #e63946; }
"""


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    return get_plotlyjs()


def _esc(value) -> str:
    return html.escape(str(value))


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("-", "", 1).replace("+", "", 1).replace("e", "", 1) \
        .strip().isdigit()


def _block(block: dict, n: int) -> str:
    kind = block["kind"]
    title = f"<h3>{_esc(block['title'])}</h3>" if block.get("title") else ""
    if kind == "text":
        return f"<p>{_esc(block['text'])}</p>"
    if kind == "kv":
        rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in block["items"])
        return f'<dl class="kv">{rows}</dl>'
    if kind == "kpis":
        cards = "".join(f'<div class="kpi"><div class="label">{_esc(i["label"])}</div><div class="value">'
                        f'{_esc(i["value"])}</div><div class="note">{_esc(i.get("note", ""))}</div></div>'
                        for i in block["items"])
        return f'<div class="kpis">{cards}</div>'
    if kind == "list":
        return title + "<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in block["items"]) + "</ul>"
    if kind == "table":
        head = "".join(f"<th>{_esc(c)}</th>" for c in block["columns"])
        body = "".join("<tr>" + "".join(f'<td class="{"num" if _is_number(str(c)) else ""}">{_esc(c)}</td>'
                                        for c in row) + "</tr>" for row in block["rows"])
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if kind == "gallery":   # images embedded as data URIs (thumbnails), with a caption; an optional grid overlay
        cells = "".join(f'<figure class="thumb">{_overlay(i)}<figcaption>{_esc(i["caption"])}</figcaption></figure>'
                        for i in block["items"])
        return f'{title}<div class="gallery">{cells}</div>'
    if kind == "code":
        return f"{title}<pre>{_esc(block['text'])}</pre>"
    if kind == "figure":
        spec = json.dumps(block["figure"], ensure_ascii=False).replace("</", "<\\/")
        return (f'<div class="figure" id="fig{n}"></div><script>Plotly.newPlot("fig{n}", ({spec}).data, '
                f'({spec}).layout, {{displayModeBar: false, responsive: true}});</script>')
    raise ValueError(f"unknown report block kind '{kind}'")


def _overlay(item: dict) -> str:
    """The thumbnail, with boxes drawn over it when the item carries some ([top, left, bottom, right] fractions)."""
    img = f'<img src="{_esc(item["src"] or "")}" alt="">'
    boxes = item.get("boxes")
    if not boxes:
        return img
    marks = "".join(f'<div class="box" style="top:{100 * t:.1f}%;left:{100 * le:.1f}%;height:{100 * (b - t):.1f}%;'
                    f'width:{100 * (r - le):.1f}%"></div>' for t, le, b, r in boxes)
    return f'<div class="heat">{img}{marks}</div>'



def render_html(report: dict) -> str:
    parts, n = [], 0
    for section in report["sections"]:
        blocks = []
        for block in section["blocks"]:
            n += 1
            blocks.append(_block(block, n))
        parts.append(f'<section id="{_esc(section["id"])}"><h2>{_esc(section["title"])}</h2>{"".join(blocks)}'
                     f"</section>")
    status = "" if report["status"] == "succeeded" else f'<p class="status-failed">{_esc(report["status"])}</p>'
    lang = "zh-CN" if report["lang"] == "zh" else "en"
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{_esc(report["title"])} — '
            f'{_esc(report["subtitle"])}</title><style>{CSS}</style><script>{_plotly_js()}</script></head><body>'
            f'<h1>{_esc(report["title"])}</h1><p class="sub">{_esc(report["subtitle"])} · {_esc(report["run_id"])} · '
            f'{_esc(report["generated"])}</p>{status}{"".join(parts)}'
            f"<script>window.reportReady = true;</script></body></html>")
