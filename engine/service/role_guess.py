"""A first guess of which column plays which role, from column names, types and a sample of the data.

The guess must be sensible enough that an expert only corrects it, never rebuilds it:
- target: the column whose name says outcome/quality (yield, rate, grade, strength, pass/fail, 良率 ...), the most
  general one when several are flags (machine_failure over its failure modes); other 0/1 flags that fire only with
  the target, and columns that copy the target (|r| ≈ 1), are leaks → ignore;
- ids (udi, product_id, unique increasing integers, 编号/批次号) and constants → ignore;
- measured values (pv, meas, sensor, actual, 实测) → context; setpoints (sp, set, 设定) → controllable;
- the remaining numeric columns → context when the names mark the settings or the table is wide, else controllable.
Every rule that fired is reported as a bilingual note, so the page can say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.dtypes import dtype_class, matches
from engine.core.i18n import Msg
from engine.optim.sanity import is_energy_use

POOL = "columns"
ROLES = ("target", "controllable", "context", "time", "group", "ignore")
SMALL_TABLE = 15       # up to this many unnamed numeric columns are taken as settings
SAMPLE_ROWS = 5000     # rows read for the leak and id checks
LEAK_R = 0.98          # |correlation| with the target above which a column copies it

STRONG_OUTCOME = {"yield", "grade", "strength", "pass", "passed", "fail", "failed", "failure", "failures", "defect",
                  "defects", "defective", "quality", "scrap", "reject", "rejects", "rejected", "efficiency",
                  "verdict", "judgement", "judgment"}
WEAK_OUTCOME = {"rate", "output", "power", "ratio", "pct", "percent"}
PROCESS_WORDS = {"flow", "feed", "speed", "heat", "heating", "cool", "cooling", "ramp", "dose", "pump", "sample"}
OUTCOME_ZH = ("良率", "合格", "强度", "效率", "不良", "缺陷", "收率", "得率", "成品率", "质量", "等级", "发电", "输出功率",
              "判定", "结论")
ID_WORDS = {"id", "ids", "uid", "udi", "uuid", "guid", "serial", "idx", "index"}
ID_ZH = ("编号", "批次号", "序号", "流水号", "工单号")
MEASURED_WORDS = {"pv", "meas", "measured", "measurement", "sensor", "actual", "act", "reading"}
MEASURED_ZH = ("实测", "测量", "检测", "实际")
SETPOINT_WORDS = {"sp", "set", "setpoint", "setting", "sv"}
SETPOINT_ZH = ("设定", "设置")
CONDITION_WORDS = {"ambient", "humidity", "weather", "outdoor", "wear", "age", "incoming", "lab", "material", "load",
                   "demand", "coal", "fuel", "moisture", "calorific", "cv"}  # what the plant must serve or is given
CONDITION_ZH = ("环境", "湿度", "来料", "原料", "天气", "气温", "负荷", "需求", "煤", "燃料", "水分", "热值")


# what the template is about decides which outcome is the target (energy: the energy use or efficiency, never a
# meter of the same electricity; yield: the quality rate)
ENERGY_TARGET = {"kwh", "mwh", "gwh", "gj", "energy", "consumption", "usage", "efficiency", "eff", "specific", "sec",
                 "fuel", "heat", "rate"}
ENERGY_TARGET_ZH = ("能耗", "电耗", "单耗", "耗电", "用电", "电量", "用能", "能源", "效率", "煤耗", "气耗", "热耗")
YIELD_TARGET = {"yield", "quality", "grade", "pass", "passed", "good", "rate", "defect", "defects", "scrap"}
YIELD_TARGET_ZH = ("良率", "合格率", "成品率", "收率", "得率", "优等率", "一次合格", "不良率")


@dataclass
class RoleGuess:
    roles: dict[str, list[str]]                         # role -> columns; POOL holds the unassigned
    notes: list[Msg] = field(default_factory=list)      # which rules applied, for a caption
    consequences: list[dict] = field(default_factory=list)  # engine.ml.consequences findings (set aside)
    is_guess: bool = True                               # a guess until the expert has checked it
    params: dict = field(default_factory=dict)          # parameter suggestions (an energy use is minimised)




def template_kind(template) -> str:
    """'energy', 'yield' or '' from the template's scenario (or id)."""
    if template is None:
        return ""
    scenario = str(getattr(template, "scenario", "") or "")
    tid = str(getattr(template, "id", "") or "")
    for kind in ("energy", "yield"):
        if kind in scenario or kind in tid:
            return kind
    return ""


def template_score(name: str, kind: str) -> int:
    """How strongly a name says it is THE outcome of this kind of template (0: no preference)."""
    from engine.ml.consequences import ELECTRIC_METER

    if kind == "energy":
        if ELECTRIC_METER.search(name):
            return 0                      # reactive power, power factor, CO₂: meters, not the energy used
        return 2 * len(tokens(name) & ENERGY_TARGET) + 3 * sum(p in name for p in ENERGY_TARGET_ZH) \
            + 2 * bool(re.search(r"(?i)kwh|mwh|gwh", name))
    if kind == "yield":
        return 2 * len(tokens(name) & YIELD_TARGET) + 3 * sum(p in name for p in YIELD_TARGET_ZH)
    return 0


def tokens(name: str) -> set[str]:
    """Lower-case words of a column name: snake_case, kebab, spaces and camelCase split."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^0-9a-zA-Z]+|(?<=[a-zA-Z])(?=[0-9])", spaced.lower()) if w}


def _named(name: str, words: set[str], zh_parts: tuple[str, ...]) -> bool:
    return bool(tokens(name) & words) or any(p in name for p in zh_parts)


def outcome_score(name: str) -> int:
    """How strongly a name says 'outcome': 2 per strong word, 1 per weak one unless a process word qualifies it."""
    words = tokens(name)
    score = 2 * len(words & STRONG_OUTCOME) + 2 * sum(p in name for p in OUTCOME_ZH)
    if not words & PROCESS_WORDS:
        score += len(words & WEAK_OUTCOME)
    return score


def _is_flag(series: pd.Series) -> bool:
    values = set(series.dropna().unique().tolist())
    return len(values) == 2 and values <= {0, 1, True, False}


def _is_counter(series: pd.Series) -> bool:
    """Unique, strictly increasing integers: a running number, not a measurement."""
    values = series.dropna()
    if len(values) < 20 or not pd.api.types.is_integer_dtype(values):
        return False
    return values.is_unique and values.is_monotonic_increasing


def _ids(types: dict[str, str], profile: dict[str, dict], sample: pd.DataFrame) -> list[str]:
    out = []
    for col, kind in types.items():
        facts = profile.get(col, {})
        if (_named(col, ID_WORDS, ID_ZH) or facts.get("identifier_like") or facts.get("constant")
                or (kind == "numeric" and col in sample and _is_counter(sample[col]))):
            out.append(col)
    return out


def _verdict_text(col: str, kind: str, sample: pd.DataFrame) -> bool:
    """A text column named as an outcome with a handful of values (PASS/FAIL, OK/NG, 合格/不合格) can be the target."""
    return kind == "text" and outcome_score(col) > 0 and col in sample and sample[col].nunique(dropna=True) <= 5


def _pick_target(candidates: list[str], sample: pd.DataFrame, notes: list[Msg], kind: str = "") -> str | None:
    fitting = [(template_score(c, kind), c) for c in candidates]
    if kind and any(score > 0 for score, _ in fitting):
        best = max(score for score, _ in fitting)
        target = max((c for score, c in fitting if score == best), key=outcome_score)
        what = {"energy": ("the energy use or efficiency", "能耗或效率"), "yield": ("the quality rate", "质量合格率")}[kind]
        notes.append(Msg(f"target {target}: the template asks for {what[0]} and its name says so",
                         f"目标 {target}：模板需要{what[1]}，列名与之相符"))
        return target
    scored = [(outcome_score(c), c) for c in candidates]
    named = [c for s, c in scored if s > 0]
    if not named:
        if candidates:
            notes.append(Msg(f"no column name says it is the outcome: the last numeric one ({candidates[-1]}) is the "
                             "target — check it", f"没有列名表明是结果指标：取最后一个数值列（{candidates[-1]}）为目标，请确认"))
            return candidates[-1]
        return None
    best = max(s for s, _ in scored)
    top = [c for s, c in scored if s == best]
    flags = [c for c in candidates if c in sample and _is_flag(sample[c])]
    # among equally named flags, the most general covers the others (its 1s include theirs)
    target = max(top, key=lambda c: sum(_covers(sample, c, o) for o in flags if o != c) if c in flags else 0)
    notes.append(Msg(f"target {target}: its name says it is an outcome", f"目标 {target}：列名表明是结果指标"))
    return target


def _covers(sample: pd.DataFrame, general: str, part: str) -> bool:
    """`part` is a sub-flag of `general`: whenever part is 1, general is 1 (in at least 95 % of the cases)."""
    on = sample[part] == 1
    return bool(on.sum()) and float((sample.loc[on, general] == 1).mean()) >= 0.95


def _shape(name: str) -> str:
    return re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"[0-9]", "9", name))) + name[-1:]


def _leaks(target: str, candidates: list[str], sample: pd.DataFrame) -> list[str]:
    """Columns that give the target away: flags that fire only with it (and flags named like them), copies of it."""
    if target not in sample:
        return []
    flags = [c for c in candidates if c != target and c in sample and _is_flag(sample[c])]
    leaks = [c for c in flags if _is_flag(sample[target]) and _covers(sample, target, c)]
    shapes = {_shape(c) for c in leaks}
    leaks += [c for c in flags if c not in leaks and _shape(c) in shapes]
    numeric = sample[[c for c in candidates if c != target and c in sample and c not in leaks]]
    numeric = numeric.select_dtypes("number")
    if len(numeric.columns) and pd.api.types.is_numeric_dtype(sample[target]):
        with np.errstate(all="ignore"):  # a constant column has no correlation: NaN, not a leak
            r = numeric.corrwith(sample[target].astype(float)).abs()
        leaks += [c for c in r.index if r[c] >= LEAK_R]
    return leaks


def guess_roles(types: dict[str, str], profile: dict[str, dict] | None = None, sample: pd.DataFrame | None = None,
                template=None, hints: dict | None = None) -> RoleGuess:
    """Roles for columns of DuckDB `types`, given their profile (constant/identifier flags), a data sample and
    the template's role boxes (dtypes, max). `hints` (role -> columns, e.g. from a recipe) are kept as given."""
    profile, sample = profile or {}, sample if sample is not None else pd.DataFrame()
    specs = dict(template.roles.items()) if template is not None else {r: None for r in ROLES}
    roles: dict[str, list[str]] = {POOL: [], **{r: [] for r in specs}, "ignore": []}
    notes: list[Msg] = []
    consequences: list[dict] = []
    fixed = _place_hints(hints or {}, roles, types)
    if "image" in roles and not fixed and {"file", "label", "path"} <= set(types):   # a table ingested from images
        roles["image"] = ["path"]
        roles["target" if "target" in roles else "ignore"].append("label")
        roles["ignore"] += [c for c in types if c not in ("path", "label")]
        notes.append(Msg("an image table: path → the image role, label → the target",
                         "图片表：path → 图片角色，label → 目标"))
        return RoleGuess(roles, notes)
    free = {c: t for c, t in types.items() if c not in fixed}
    kinds = {c: dtype_class(t) for c, t in free.items()}

    def fits(role: str, col: str) -> bool:
        spec = specs.get(role, False)
        return role in roles and (spec is None or matches(types[col], spec.dtypes))

    ids = _ids(free, profile, sample)
    _note(notes, ids, "ignored as ids or constants", "作为标识或常数列忽略")
    roles["ignore"] += ids
    rest = [c for c in free if c not in ids]
    if "time" in roles and not roles["time"]:
        times = [c for c in rest if kinds[c] == "datetime" and fits("time", c)]
        roles["time"] += times[:1]
    rest = [c for c in rest if c not in roles.get("time", [])]
    if "target" in roles and not roles["target"]:
        unmarked = [c for c in rest if not _named(c, MEASURED_WORDS | SETPOINT_WORDS, MEASURED_ZH + SETPOINT_ZH)]
        target = _pick_target([c for c in unmarked if fits("target", c) and (kinds[c] in ("numeric", "bool") or
                                                                         _verdict_text(c, kinds[c], sample))],
                              sample, notes, template_kind(template))
        if target:
            roles["target"].append(target)
            leaks = _leaks(target, rest, sample)
            _note(notes, leaks, f"ignored: they give {target} away (recorded with it or a copy of it)",
                  f"已忽略：会泄露 {target}（与其同时记录或是其副本）")
            roles["ignore"] += leaks
            consequences = _consequences(target, [c for c in rest if c != target], sample, notes)
            roles["ignore"] += [f["name"] for f in consequences if f["name"] not in leaks]
    taken = {c for cols in roles.values() for c in cols}
    _spread([c for c in rest if c not in taken], kinds, roles, fits, notes)
    _fill_required(specs, roles, fits, notes)
    _cap(specs, roles)
    params = {}
    scenario = (getattr(template, "params", None) or {}).get("scenario")
    if roles.get("time") and scenario is not None and "latest" in (getattr(scenario, "choices", None) or []):
        params["scenario"] = "latest"   # a typical row made of medians may never have happened; the latest did
        notes.append(Msg("conditions: the latest row (a time column is there)", "工况：最新一行（有时间列）"))
    if template_kind(template) == "energy" and roles.get("target") and is_energy_use(roles["target"][0]):
        params["goal"] = "minimize"
        notes.append(Msg(f"goal: minimise {roles['target'][0]} (an energy use)", f"方向：最小化 {roles['target'][0]}（能耗）"))
    return RoleGuess(roles, notes, consequences, params=params)


def _consequences(target: str, columns: list[str], sample: pd.DataFrame, notes: list[Msg]) -> list[dict]:
    """Columns the target determines (or that determine it): never proposed as settings (→ ignore), each named."""
    from engine.ml.consequences import find_consequences

    if target not in sample:
        return []
    found = find_consequences(sample, target, [c for c in columns if c in sample])
    _note(notes, [f["name"] for f in found], f"ignored: consequences of {target} (meters of the same flow or computed "
          "from it), not settings", f"已忽略：是 {target} 的结果（同一能流的计量或由其算出），不是可调参数")
    return found


def _place_hints(hints: dict, roles: dict, types: dict) -> set[str]:
    fixed = set()
    for role, cols in hints.items():
        for col in [cols] if isinstance(cols, str) else cols or []:
            if col in types and col not in fixed:
                roles.setdefault(role if role in roles else POOL, []).append(col)
                fixed.add(col)
    return fixed


def _spread(columns: list[str], kinds: dict[str, str], roles: dict, fits, notes: list[Msg]) -> None:
    """Measured → context, setpoints → controllable, conditions → context; the rest by the width rule."""
    measured = [c for c in columns if _named(c, MEASURED_WORDS, MEASURED_ZH) and fits("context", c)]
    setpoints = [c for c in columns if c not in measured and _named(c, SETPOINT_WORDS, SETPOINT_ZH)
                 and fits("controllable", c)]
    conditions = [c for c in columns if c not in measured + setpoints and fits("context", c)
                  and (_named(c, CONDITION_WORDS, CONDITION_ZH) or kinds[c] in ("text", "bool"))]
    _note(notes, measured, "measured values (pv, sensor, 实测 …) → Context", "测量值（pv、传感器、实测…）→ 工况")
    _note(notes, setpoints, "setpoints (sp, set, 设定 …) → Controllable", "设定值（sp、set、设定…）→ 可调参数")
    _note(notes, conditions, "conditions and categories → Context", "工况与类别列 → 工况")
    for role, cols in (("context", measured + conditions), ("controllable", setpoints)):
        if cols:  # only when the template has the role (fits)
            roles[role] += cols
    rest = [c for c in columns if c not in measured + setpoints + conditions and kinds[c] in ("numeric", "bool")]
    if rest and (setpoints or len(rest) > SMALL_TABLE):
        why = (Msg("the names mark the settings", "列名已标明设定值") if setpoints else
               Msg(f"more than {SMALL_TABLE} of them, none named as a setting — drag the ones the plant can set",
                   f"超过 {SMALL_TABLE} 列且未标明设定值——请把现场能调的拖到可调参数"))
        _place(rest, "context", roles, fits, notes, Msg(f"other numeric columns → Context ({why})",
                                                        f"其余数值列 → 工况（{why.zh}）"))
    elif rest:
        _place(rest, "controllable", roles, fits, notes,
               Msg(f"small table: the other numeric columns are taken as settings → Controllable (move conditions "
                   "that cannot be set to Context)", "小表：其余数值列视为可调参数（不能设定的条件请移到工况）"))
    placed = {c for cols in roles.values() for c in cols}
    roles[POOL] += [c for c in columns if c not in placed]


def _place(columns: list[str], role: str, roles: dict, fits, notes: list[Msg], note: Msg) -> None:
    ok = [c for c in columns if fits(role, c)]
    if ok:
        roles[role] += ok
        notes.append(note)


def _fill_required(specs: dict, roles: dict, fits, notes: list[Msg]) -> None:
    """A required role still short of its minimum takes the unplaced columns that fit it (e.g. a template whose
    only feature role is Controllable, like the test items of test-item reduction: no Context box to fill)."""
    for role, spec in specs.items():
        if spec is None or not spec.required or len(roles.get(role, [])) >= max(spec.min, 1):
            continue
        pool = [c for c in roles[POOL] if fits(role, c)]
        if pool:
            roles[role] += pool
            roles[POOL] = [c for c in roles[POOL] if c not in pool]
            label = spec.label.en if spec.label else role
            label_zh = spec.label.zh if spec.label else role
            notes.append(Msg(f"the remaining columns → {label} (the template needs at least {max(spec.min, 1)})",
                             f"其余列 → {label_zh}（模板至少需要 {max(spec.min, 1)} 列）"))


def _cap(specs: dict, roles: dict) -> None:
    """A role's max from the template: the overflow of Controllable goes to Context, any other to the pool."""
    for role, spec in specs.items():
        if spec is None or spec.max is None or len(roles.get(role, [])) <= spec.max:
            continue
        extra, roles[role] = roles[role][spec.max:], roles[role][:spec.max]
        spill = "context" if role == "controllable" and "context" in roles else POOL
        roles[spill] += extra


def _note(notes: list[Msg], columns: list[str], en: str, zh: str) -> None:
    if columns:
        shown = ", ".join(columns[:6]) + (f" … (+{len(columns) - 6})" if len(columns) > 6 else "")
        notes.append(Msg(f"{shown}: {en}", f"{shown}：{zh}"))


def match_columns(columns: list[str], pattern: str) -> list[str]:
    """Columns matching what an expert typed to find them: a glob (`*_sp`, `temp_??`, case-insensitive) when it has
    wildcards, else every column containing the text. Empty: none."""
    import fnmatch

    pattern = (pattern or "").strip()
    if not pattern:
        return []
    if any(ch in pattern for ch in "*?["):
        return [c for c in columns if fnmatch.fnmatch(c.lower(), pattern.lower())]
    return [c for c in columns if pattern.lower() in c.lower()]
