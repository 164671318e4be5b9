"""Numbers for people: significant digits, thousands separators, no scientific notation for everyday values and no
float noise (1.0443262743983364 → 1.044, 4.275e+04 → 42,750, 5e-36 → 0). One formatter for screens and reports."""

from __future__ import annotations

import math
from typing import Any

TINY = 1e-9     # below this (in absolute value) a float is noise around zero: shown as 0
HUGE = 1e15     # from here on scientific notation is the readable form


def people(value: Any, digits: int = 4) -> str:
    """`value` with `digits` significant digits, '—' when missing; text is returned as it is."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, int) and abs(value) < HUGE:
        return f"{value:,}"
    value = float(value)
    if abs(value) < TINY:
        return "0"
    if abs(value) >= HUGE:
        return f"{value:.{digits - 1}e}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{round(value, decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tidy(value: float, digits: int = 6) -> float:
    """A float rounded to `digits` significant digits: a form's starting value without float noise."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value == 0:
        return value
    return float(round(value, max(0, digits - 1 - math.floor(math.log10(abs(value))))) if abs(value) >= 1 else
                 float(f"{value:.{digits}g}"))
