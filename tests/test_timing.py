"""Tests for companion.timing.best_time (no timed assertions: only structure and order)."""

import pytest

from companion.timing import best_time


def test_calls_the_function_number_times_repeat():
    calls = []
    seconds = best_time(lambda: calls.append(1), number=4, repeat=3)
    assert len(calls) == 12
    assert seconds >= 0.0


def test_returns_the_per_call_minimum(monkeypatch):
    import companion.timing as timing

    monkeypatch.setattr(timing.timeit, "repeat", lambda func, number, repeat: [0.9, 0.3, 0.6])
    assert best_time(lambda: None, number=3, repeat=3) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"number": 0}, ValueError, r"number must be an integer >= 1, got 0"),
        ({"repeat": 2.0}, ValueError, r"repeat must be an integer >= 1, got 2.0"),
        ({"repeat": True}, ValueError, r"repeat must be an integer >= 1, got True"),
    ],
)
def test_bad_counts_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        best_time(lambda: None, **kwargs)


def test_non_callable_is_refused():
    with pytest.raises(TypeError, match=r"func must be callable, got 3"):
        best_time(3)
