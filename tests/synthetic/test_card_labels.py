"""The card evaluation's ground truth: which glare leaves a card readable to a person."""

from __future__ import annotations

import numpy as np

from synthetic.card_renderers import ERASED, _washed_out

BOX = (100, 40, 430, 70)  # one line of eleven 30 px characters


def _line() -> tuple[np.ndarray, np.ndarray]:
    """Ink (True where printed) and the card's grey levels after a reflection: paper 255, print
    30, each character a 20 x 24 block of strokes."""
    ink = np.zeros((120, 600), bool)
    for n in range(11):
        ink[42:66, 104 + 30 * n : 124 + 30 * n : 3] = True
    return ink, np.where(ink, 30, 255)


def _after(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return grey > 200, grey > ERASED


def test_one_character_erased_makes_the_line_unreadable() -> None:
    """A twelfth of the print gone is under the fifth that marks a value washed out, but the
    character it took is lost: 2101室 read 21室 by anyone."""
    ink, grey = _line()
    grey[:, 400:430][ink[:, 400:430]] = 250
    assert _washed_out(ink, *_after(grey), BOX)


def test_print_paled_but_not_erased_is_readable() -> None:
    ink, grey = _line()
    grey[:, 400:430][ink[:, 400:430]] = 220  # washed (> 200) but not erased: still legible
    assert not _washed_out(ink, *_after(grey), BOX)
    assert not _washed_out(ink, *_after(_line()[1]), BOX)


def test_a_fifth_of_the_print_washed_out_makes_the_line_unreadable() -> None:
    ink, grey = _line()
    grey[:, 100:190][ink[:, 100:190]] = 220
    assert _washed_out(ink, *_after(grey), BOX)
