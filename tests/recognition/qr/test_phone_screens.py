"""The rendered phone-screen set is reproducible and holds what it says."""

from __future__ import annotations

import numpy as np

from tests.recognition.qr.phone_screens import BASE45, HARSH, TOKEN_SIZED, render


def test_the_same_index_and_seed_give_the_same_pixels() -> None:
    first, again = render(17), render(17)
    assert first.text == again.text
    assert np.array_equal(first.frame, again.frame)
    assert first.params == again.params


def test_another_seed_or_index_gives_another_frame() -> None:
    base = render(17)
    assert render(17, seed=1).text != base.text
    assert render(18).text != base.text
    assert not np.array_equal(render(17, seed=1).frame, base.frame)


def test_frames_are_720p_bgr_with_pass_like_texts() -> None:
    for index in range(3):
        screen = render(index)
        assert screen.frame.shape == (720, 1280, 3)
        assert screen.frame.dtype == np.uint8
        assert 60 <= len(screen.text) <= 120
        assert set(screen.text) <= set(BASE45)
        assert 130 * 0.8 <= screen.params["code_px"] <= 400 * 1.2


def test_conditions_change_the_texts_and_the_blur() -> None:
    assert 150 <= len(render(0, conditions=TOKEN_SIZED).text) <= 190
    assert render(0, conditions=HARSH).params != render(0).params
    assert render(0, with_code=False).text == ""
