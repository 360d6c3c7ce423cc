"""ETA: the estimate and its 80% range from recent step times."""

from __future__ import annotations

import math

import pytest

from peftstudio.callbacks.eta import estimate
from peftstudio.units import short_duration as format_duration


@pytest.mark.parametrize(
    ("times", "remaining", "expected"),
    [
        ([1.0, 1.0, 1.0], 10, 10.0),
        ([2.0, 4.0], 5, 15.0),
        ([0.5], 4, 2.0),
        ([3.0, 3.0], 0, 0.0),
    ],
)
def test_estimate_is_mean_step_time_times_steps_left(times: list[float], remaining: int, expected: float) -> None:
    e = estimate(times, remaining)
    assert e is not None
    assert e.seconds == pytest.approx(expected)
    assert e.low <= e.seconds <= e.high
    assert e.remaining_steps == remaining


def test_no_samples_gives_no_estimate() -> None:
    assert estimate([], 100) is None
    assert estimate([float("nan"), -1.0], 100) is None


def test_constant_step_times_give_a_point_range() -> None:
    e = estimate([2.0] * 10, 50)
    assert e is not None and e.low == e.high == e.seconds == 100.0


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.95])
def test_range_widens_with_confidence(confidence: float) -> None:
    times = [1.0, 1.5, 0.7, 1.2, 0.9]
    narrow = estimate(times, 100, confidence=0.4)
    wide = estimate(times, 100, confidence=confidence)
    assert narrow is not None and wide is not None
    assert wide.high - wide.low > narrow.high - narrow.low


def test_range_narrows_as_training_proceeds() -> None:
    # same noisy process; later: more samples seen and fewer steps left
    pattern = [1.0, 1.4, 0.8, 1.2, 0.6, 1.1, 0.9, 1.3]
    early = estimate(pattern[:3], remaining_steps=200)
    late = estimate(pattern * 6, remaining_steps=20)
    assert early is not None and late is not None
    assert (late.high - late.low) < (early.high - early.low)
    assert (late.high - late.low) / late.seconds < (early.high - early.low) / early.seconds


def test_window_uses_recent_times_only() -> None:
    e = estimate([100.0] * 10 + [1.0] * 5, 10, window=5)
    assert e is not None and e.seconds == pytest.approx(10.0)


def test_single_sample_has_a_wide_range_and_low_is_not_negative() -> None:
    e = estimate([1.0], 3)
    assert e is not None and e.low >= 0 and e.high > e.seconds


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2])
def test_confidence_must_be_a_fraction(bad: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        estimate([1.0], 1, confidence=bad)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.6, "1m 00s"), (3600, "1h 00m"), (None, "unknown"),
                                               (math.inf, "unknown")])
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
