"""Printed labels recognised loosely, as a label font the recogniser has not seen comes back."""

from __future__ import annotations

import pytest

from vision.cardlabels import edit_distance, is_label, label_prefix


def test_edit_distance() -> None:
    assert edit_distance("签发机关", "基皮帆关") == 3
    assert edit_distance("姓名", "名") == 1
    assert edit_distance("", "住址") == 2


@pytest.mark.parametrize(
    ("text", "label", "length"),
    [
        ("姓名欧阳明", "姓名", 2),
        ("名董刚", "姓名", 1),  # 姓 lost
        ("娃名董刚", "姓名", 2),  # 姓 misread
        ("签发机犬杭州市公安局", "签发机关", 4),
        ("公民身份号吗110101", "公民身份号码", 6),
        ("董刚", "姓名", None),  # a value, not a label
        ("基皮帆关杭州市公安局", "签发机关", None),  # too far gone: cut by place instead
    ],
)
def test_label_prefix(text: str, label: str, length: int | None) -> None:
    assert label_prefix(text, label) == length


def test_a_label_alone() -> None:
    assert is_label("住扯", ("姓名", "住址")) == "住址"
    assert is_label("北京市", ("姓名", "住址")) is None
