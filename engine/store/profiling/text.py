"""A profile as short plain-text lines (for `python -m engine profile TABLE`), in English or Chinese."""

from __future__ import annotations

_WORDS = {
    "en": {"rows": "rows", "cols": "columns", "dups": "duplicate rows", "score": "readiness",
           "data": "data density", "collection": "collection density", "loop": "closed loop", "cached": "cached",
           "time": "time", "every": "every", "gaps": "gaps", "repeats": "repeated timestamps", "none": "no time column"},
    "zh": {"rows": "行", "cols": "列", "dups": "重复行", "score": "数据就绪度", "data": "数据密度",
           "collection": "采集密度", "loop": "闭环", "cached": "缓存", "time": "时间", "every": "间隔",
           "gaps": "断档", "repeats": "重复时间戳", "none": "无时间列"},
}


def summary_lines(profile: dict, lang: str = "en") -> list[str]:
    w = _WORDS.get(lang, _WORDS["en"])
    r = profile["readiness"]
    loop = "-" if r["closed_loop"] is None else r["closed_loop"]
    lines = [f"{profile['table']}: {profile['rows']} {w['rows']} × {profile['n_columns']} {w['cols']}, "
             f"{w['dups']} {profile['duplicate_rows']}" + (f"  ({w['cached']})" if profile.get("cached") else ""),
             f"{w['score']} {r['score']}  ({w['data']} {r['data_density']}, {w['collection']} "
             f"{r['collection_density']}, {w['loop']} {loop})"]
    lines += [f"  - {reason[lang if lang in reason else 'en']}" for reason in r["reasons"]]
    lines.append(_time_line(profile["time"], w))
    lines += [_column_line(c) for c in profile["columns"]]
    return lines


def _time_line(axis: dict | None, w: dict) -> str:
    if axis is None:
        return f"{w['time']}: {w['none']}"
    every = f", {w['every']} {axis['interval']}" if axis["interval"] else ""
    return (f"{w['time']} '{axis['column']}': {axis['start']} → {axis['end']}{every}, {w['gaps']} "
            f"{axis['gaps']['count']}, {w['repeats']} {axis['duplicate_timestamps']}")


def _column_line(c: dict) -> str:
    flags = [f for f in ("constant", "near_constant", "identifier_like") if c[f]][:1]
    head = f"{c['name'][:24]:<24} {c['class']:<8} missing {c['missing_pct']:6.2f}%  distinct {c['distinct'] or 0:>8}"
    if c["class"] == "numeric" and "quantiles" in c:
        q, out = c["quantiles"], c["outliers"]
        mad = out["mad"]["count"] if out["mad"] else "-"
        head += f"  min {c['min']:.4g} p50 {q['p50']:.4g} max {c['max']:.4g}  outliers iqr {out['iqr']['count']} mad {mad}"
    elif c["class"] == "datetime" and "min" in c:
        head += f"  {c['min']} → {c['max']}"
    elif c.get("most_common"):
        head += f"  top {c['most_common']['value']!r} {100 * c['most_common']['share']:.1f}%"
    return head + (f"  [{flags[0]}]" if flags else "")
