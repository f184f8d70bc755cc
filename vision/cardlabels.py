"""Finding the printed labels of an ID card in OCR lines, whatever the recogniser made of them.

Serves the card-reading step of identity verification (`vision.idfields`): a value is read
right of its label, so the label must be recognised and removed even in a label font the
recogniser has not seen, where 姓名 comes back as 名 or 娃名 and 签发机关 as 基皮帆关, alone or
glued to its value. A label is recognised by its characters in their places (for a label of
two characters one right character in its place is enough; longer labels may lose up to half),
and only in the line that starts its row in the label column: a value line is never searched
for label characters. Where values start is taken from the card itself: right of the labels
read alone, or at the common left edge of the value lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vision.idfields import TextLine


def char_weight(char: str) -> float:
    """A character's printed width in full-width characters: digits and Latin letters are
    about half as wide as a Chinese character."""
    return 0.55 if char.isascii() else 1.0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: characters replaced, dropped or added."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _allowed(label: str) -> int:
    return len(label) // 2


def label_prefixes(text: str, label: str) -> list[int]:
    """How many leading characters of `text` may be `label` as read (misread, a character lost
    or one too many), closest reading first; empty when the start of `text` is not that label.
    Of equally close readings the one of the label's own length comes first."""
    found: list[tuple[int, int, int]] = []
    for length in (len(label), len(label) - 1, len(label) + 1):
        if length < 1 or length > len(text):
            continue
        prefix = text[:length]
        distance = edit_distance(prefix, label)
        # at least one of the label's characters: a wholly different start is a value
        if distance <= _allowed(label) and any(c in label for c in prefix):
            found.append((distance, abs(length - len(label)), length))
    return [length for *_, length in sorted(found)]


def label_prefix(text: str, label: str) -> int | None:
    """The closest of `label_prefixes`, or None."""
    found = label_prefixes(text, label)
    return found[0] if found else None


def is_label(text: str, labels: Sequence[str]) -> str | None:
    """The label that `text` is on its own (read loosely), if any."""
    for label in labels:
        if len(text) <= len(label) + 1 and label_prefix(text, label) == len(text):
            return label
    return None


def leading_label(row: list[TextLine], labels: Sequence[str], clean_text) -> int:
    """How many lines at the start of `row` together are a label read on its own (a spaced
    label such as 姓  名 may come back as two boxes); 0 when the row starts with a value or
    with a label glued to its value."""
    text = ""
    for count, line in enumerate(row[:2], 1):
        text += clean_text(line.text)
        if is_label(text, labels):
            return count
    return 0


def value_start(
    rows: list[list[TextLine]], labels: Sequence[str], clean_text
) -> tuple[float | None, float | None]:
    """(label column's left edge, where values start) on one side, from its rows.

    Values start just right of the labels read alone (their median right edge), else a little
    left of the leftmost row that starts right of the label column (a line the address wraps
    onto, a row whose label the detector missed); else nobody knows, and None says so."""
    firsts = [row[0] for row in rows if row]
    if not firsts:
        return None, None
    height = float(np.median([line.height for line in firsts]))
    column = float(np.percentile([line.left for line in firsts], 25))
    edges, heights = [], []
    for row in rows:
        count = leading_label(row, labels, clean_text)
        if count and row[0].left < column + height:
            edges.append(row[count - 1].right)
            heights.append(row[0].height)
    if edges:
        return column, float(np.median(edges)) + 0.15 * float(np.median(heights))
    # rows that start right of the label column: a label the detector missed, a wrapped line
    starts = [row[0].left for row in rows if row and row[0].left > column + 2 * height]
    if not starts:
        return column, None
    start = min(starts) - 0.3 * height
    # a row whose label was read glued to its value says where its value begins, give or take
    # the label's spacing: a start far right of that is not a value line (a stamp, a smudge)
    glued = [
        end
        for row in rows
        if row and row[0].left < column + height
        for end in [_glued_label_end(row[0], labels, clean_text)]
        if end is not None
    ]
    if glued and start > max(glued) + 3 * height:
        return column, float(np.median(glued)) + 0.15 * height
    return column, start


def _glued_label_end(line: TextLine, labels: Sequence[str], clean_text) -> float | None:
    """Where the label read at the start of `line`, glued to a value, ends on the card: its
    characters' share of the line's width, by their printed widths."""
    text = clean_text(line.text)
    for label in labels:
        count = label_prefix(text, label)
        if count is not None and count < len(text):
            share = sum(map(char_weight, text[:count])) / sum(map(char_weight, text))
            return line.left + share * (line.right - line.left)
    return None
