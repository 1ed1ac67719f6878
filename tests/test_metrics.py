"""Tests for companion.metrics: average precision for many runs, against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from companion.metrics import average_precision


@pytest.mark.parametrize("tied", [False, True])
def test_average_precision_equals_sklearn_run_by_run(tied):
    rng = np.random.default_rng(int(tied))
    y = (rng.random((4, 6, 150)) < 0.2).astype(int)
    score = rng.normal(size=y.shape) + 1.5 * y
    if tied:  # few distinct scores, as saturated probabilities give
        score = np.round(score, 0)
    ap = average_precision(y, score)
    assert ap.shape == (4, 6)
    for i in range(4):
        for j in range(6):
            assert ap[i, j] == pytest.approx(average_precision_score(y[i, j], score[i, j]), 1e-12)


def test_average_precision_limits_and_a_run_without_positives():
    y = np.array([[0, 1, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    score = np.array([[0.1, 0.9, 0.2, 0.8], [0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.3, 0.4]])
    ap = average_precision(y.astype(bool), score)
    assert ap[0] == 1.0 and ap[1] == 1.0 and np.isnan(ap[2])
    # every point tied: the share of positives
    assert float(average_precision([0, 1, 0, 0], [0.5] * 4)) == 0.25


@pytest.mark.parametrize(
    "y_true, y_score, error, match",
    [
        ([0, 1], [0.5], ValueError, "same shape"),
        ([], [], ValueError, "N > 0"),
        (0, 0.5, ValueError, "same shape"),
        ([0, 2], [0.5, 0.5], ValueError, "labels 0 and 1"),
        ([0, 1], [0.5, np.nan], ValueError, "must not hold NaN"),
        (["a", "b"], [0.5, 0.5], TypeError, "must be real numbers"),
        ([0, 1], [0.5j, 0.5], TypeError, "must be real numbers"),
    ],
)
def test_average_precision_rejects_bad_input(y_true, y_score, error, match):
    with pytest.raises(error, match=match):
        average_precision(y_true, y_score)
