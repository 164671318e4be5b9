"""engine.core.boosters: the one linear-leaves check, duck-typed (core imports no LightGBM)."""

from engine.core.boosters import has_linear_leaves


class _Text:
    def __init__(self, text: str):
        self.text, self.reads = text, 0

    def model_to_string(self) -> str:
        self.reads += 1
        return self.text


def test_linear_leaves_read_from_the_model_text_once_and_other_models_are_not():
    linear, constant = _Text("tree\nis_linear=1\n"), _Text("tree\nis_linear=0\n")
    assert has_linear_leaves(linear) and has_linear_leaves(linear) and linear.reads == 1
    assert not has_linear_leaves(constant)
    assert not has_linear_leaves(object())
