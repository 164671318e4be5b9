"""A bag of LightGBM models fitted with different seeds, merged into ONE booster that predicts their average.

Why: an optimiser searching a single model finds the places where that model overestimates by chance (the
winner's curse): on the simulated line the recommendation from one model captured 0.86–0.93 of the achievable
uplift, from the average of five 0.92–0.98 (bench/bench_yield.py). Averaging seeds (row and column subsampling
differ) cancels much of that noise.

Why merge instead of keeping a list: a booster's raw score is the sum of its trees' leaf values, so the trees of k
boosters with every leaf value divided by k sum to the average raw score. The merged model is an ordinary
`lgb.Booster`: prediction, SHAP (`pred_contrib`), the MILP encoder and its verification work on it unchanged.
For a binary model the average is taken on the raw (log-odds) scale, then the sigmoid applies, as in one model.
Piecewise-linear leaves (`linear_tree`) merge too — their constants and coefficients are scaled like leaf values —
and a merged model may hold both kinds of trees (model.search@3 blends them); such a model has no SHAP and no MILP.
"""

from __future__ import annotations

import re

import lightgbm as lgb


_NUMBERS = re.compile(r"^(leaf_value|internal_value|leaf_const|leaf_coeff)=(.*)$", re.M)
_NUMBER = re.compile(r"[^\s]+")


def merge_boosters(boosters: list[lgb.Booster]) -> lgb.Booster:
    """One booster whose raw score is the mean of the given boosters' raw scores (same features and objective)."""
    if len(boosters) == 1:
        return boosters[0]
    texts = [b.model_to_string() for b in boosters]
    header, _, _ = _split(texts[0])
    trees = [tree for text in texts for tree in _split(text)[1]]
    scale = 1.0 / len(boosters)
    body = "".join(_renumber(_scaled(tree, scale), i) for i, tree in enumerate(trees))
    header = re.sub(r"^tree_sizes=.*\n", "", header, flags=re.M)  # optional; sizes of the merged trees differ
    return lgb.Booster(model_str=header + "\n" + body + "end of trees\n\n" + _split(texts[0])[2])


def _split(text: str) -> tuple[str, list[str], str]:
    """(header, tree blocks each ending in a blank line, the parameters section after the trees)."""
    start, end = text.index("\nTree=") + 1, text.index("end of trees")
    blocks = [b.strip("\n") + "\n\n\n" for b in re.split(r"\n(?=Tree=\d+\n)", text[start:end]) if b.strip()]
    tail = text[end + len("end of trees"):]
    tail = tail[tail.index("parameters:"):] if "parameters:" in tail else tail.lstrip("\n")
    return text[:start], blocks, tail


def _scaled(tree: str, scale: float) -> str:
    def scale_line(match: re.Match) -> str:
        # every number scaled, the spacing kept (a linear leaf's coefficients are separated by two spaces per leaf)
        values = _NUMBER.sub(lambda m: repr(float(m.group(0)) * scale), match.group(2))
        return f"{match.group(1)}={values}"

    return _NUMBERS.sub(scale_line, tree)


def _renumber(tree: str, index: int) -> str:
    return re.sub(r"^Tree=\d+", f"Tree={index}", tree, count=1)
