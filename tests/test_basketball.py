"""Tests for companion.basketball, the free-throw coach simulation."""

import numpy as np
import pytest

from companion import l1_loss_grad
from companion.basketball import (
    COACH_NAMES,
    COACHES,
    GAIN,
    GRAVITY,
    SIGN_STEP,
    Court,
    Practice,
    coach_says,
    plot_practice,
    simulate,
    summarize,
    summary_rows,
    throws_to_steady,
)


def test_ideal_form_lands_in_the_centre():
    court = Court()
    np.testing.assert_allclose(court.miss(court.ideal_form), [0.0, 0.0], atol=1e-12)


def test_miss_geometry():
    court = Court(hoop_distance=4.0)
    speed = np.sqrt(GRAVITY * 5.0)  # reach 5 m
    miss = court.miss(np.array([[0.0, speed], [np.pi / 2, speed]]))
    np.testing.assert_allclose(miss, [[0.0, 1.0], [5.0, -4.0]], atol=1e-12)


def test_jacobian_matches_finite_differences():
    court = Court()
    form = np.array([[0.1, 6.0], [-0.2, 7.0]])
    h = 1e-6
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        numeric = (court.miss(form + step) - court.miss(form - step)) / (2 * h)
        np.testing.assert_allclose(court.jacobian(form)[..., j], numeric, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hoop_distance": 0.0}, "hoop_distance must be > 0"),
        ({"rim_radius": -1.0}, "rim_radius must be > 0"),
        ({"direction_noise": -0.1}, "direction_noise must be >= 0"),
        ({"speed_noise": float("nan")}, "speed_noise must be >= 0"),
    ],
)
def test_court_rejects_bad_geometry(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Court(**kwargs)


def test_each_coach_says_only_its_kind_of_feedback():
    court = Court()
    ideal = court.ideal_form
    executed = np.array([ideal, ideal + [0.1, 0.0], ideal + [-0.1, 0.5]])
    miss = court.miss(executed)
    np.testing.assert_array_equal(coach_says("hit_or_miss", court, executed), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(coach_says("left_or_right", court, executed), [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(coach_says("sign_of_miss", court, executed), np.sign(miss))
    np.testing.assert_array_equal(coach_says("miss_vector", court, executed), miss)
    said = coach_says("form_coaching", court, executed)
    assert said.shape == (3, 2, 2)
    np.testing.assert_array_equal(said[:, 0], miss)


def test_sign_of_miss_is_the_gradient_of_the_l1_loss_of_the_miss():
    court = Court()
    rng = np.random.default_rng(1)
    executed = court.ideal_form + rng.normal(0.0, [0.1, 0.4], size=(50, 2))
    miss = court.miss(executed)
    np.testing.assert_array_equal(
        coach_says("sign_of_miss", court, executed),
        l1_loss_grad(miss, np.zeros_like(miss), reduction="sum"),
    )


def test_form_coaching_is_a_newton_step():
    court = Court()
    executed = court.ideal_form + np.array([[0.02, 0.05], [-0.01, -0.03]])
    change = coach_says("form_coaching", court, executed)[:, 1]
    # the shot model is smooth, so one Newton step from nearby lands almost in the centre
    corrected = np.linalg.norm(court.miss(executed + change), axis=-1)
    assert np.all(corrected < 0.05 * np.linalg.norm(court.miss(executed), axis=-1))


@pytest.mark.parametrize("form", [np.zeros(3), np.zeros((4, 1)), np.float64(1.0)])
def test_forms_must_be_direction_speed_pairs(form):
    court = Court()
    for call in (court.miss, court.jacobian, lambda f: coach_says("miss_vector", court, f)):
        with pytest.raises(ValueError, match=r"a form must have shape \(\.\.\., 2\)"):
            call(form)


def test_unknown_coach():
    with pytest.raises(ValueError, match="coach must be one of"):
        coach_says("shouting", Court(), Court().ideal_form)
    with pytest.raises(ValueError, match="coach must be one of"):
        simulate("shouting")


@pytest.mark.parametrize("coach", COACHES)
def test_simulation_is_deterministic_for_a_seed(coach):
    a = simulate(coach, seeds=[3, 7], throws=50)
    b = simulate(coach, seeds=[3, 7], throws=50)
    np.testing.assert_array_equal(a.misses, b.misses)
    np.testing.assert_array_equal(a.forms, b.forms)
    # a session depends on its own seed only, not on which other sessions run beside it
    alone = simulate(coach, seeds=[7], throws=50)
    np.testing.assert_array_equal(alone.misses[0], a.misses[1])
    assert a.hits.shape == (2, 50) and a.hits.dtype == bool


def test_every_coach_starts_from_the_same_first_throw():
    first = [simulate(coach, seeds=5, throws=1).misses for coach in COACHES]
    for other in first[1:]:
        np.testing.assert_array_equal(other, first[0])
    assert np.all(np.linalg.norm(first[0], axis=-1) > Court().rim_radius)


def test_richer_feedback_learns_faster_on_the_default_court():
    practice = [simulate(coach, seeds=30) for coach in COACHES]
    medians = [np.median(throws_to_steady(p.hits)) for p in practice]
    # with the default step sizes: hit-or-miss slowest, form coaching fastest
    assert medians[0] > medians[1] > medians[2] >= medians[3] > medians[4]
    early = [summarize(p).early for p in practice]
    assert early == sorted(early) and len(set(early)) == len(early)


def test_full_newton_steps_chase_noise_on_a_noisy_court():
    noisy = Court(direction_noise=0.025, speed_noise=0.08)
    late = {
        scale: summarize(simulate("form_coaching", seeds=30, court=noisy, step_scale=scale)).late
        for scale in (1.0, 0.4)
    }
    assert late[0.4] > late[1.0] + 0.1


def test_learning_rules_use_their_feedback():
    practice = {coach: simulate(coach, seeds=4, throws=60) for coach in COACHES}
    for coach in ("hit_or_miss", "left_or_right"):
        forms, hits = practice[coach].forms, practice[coach].hits
        # after a make, throw the same form again
        np.testing.assert_array_equal(forms[:, 1:][hits[:, :-1]], forms[:, :-1][hits[:, :-1]])
        assert (forms[:, 1:] != forms[:, :-1]).any()
    step = np.diff(practice["miss_vector"].forms, axis=1)
    np.testing.assert_allclose(step, -GAIN * practice["miss_vector"].misses[:, :-1])
    # sign steps: against the sign of the miss on each axis, starting at SIGN_STEP and halving
    # exactly when that axis's sign flips
    forms, misses = practice["sign_of_miss"].forms, practice["sign_of_miss"].misses
    signs = np.sign(misses[:, :-1])
    size = -np.diff(forms, axis=1) / signs
    np.testing.assert_allclose(size[:, 0], np.broadcast_to(SIGN_STEP, size[:, 0].shape))
    flipped = signs[:, 1:] * signs[:, :-1] < 0
    np.testing.assert_allclose(
        size[:, 1:], np.where(flipped, 0.5, 1.0) * size[:, :-1], rtol=0, atol=1e-12
    )
    assert flipped.any() and (~flipped).any()
    # without execution noise the executed form is the intended one, and the coach's Newton step
    # is applied exactly as told
    still = Court(direction_noise=0.0, speed_noise=0.0)
    forms = simulate("form_coaching", seeds=4, throws=5, court=still).forms
    told = coach_says("form_coaching", still, forms[:, :-1])[..., 1, :]
    np.testing.assert_allclose(forms[:, 1:], forms[:, :-1] + told)


def test_step_scale_multiplies_every_rule_s_steps():
    still = Court(direction_noise=0.0, speed_noise=0.0)
    doubled = simulate("miss_vector", seeds=3, throws=20, step_scale=2.0)
    np.testing.assert_allclose(np.diff(doubled.forms, axis=1), -2.0 * GAIN * doubled.misses[:, :-1])
    forms = simulate("form_coaching", seeds=3, throws=5, court=still, step_scale=0.4).forms
    told = coach_says("form_coaching", still, forms[:, :-1])[..., 1, :]
    np.testing.assert_allclose(forms[:, 1:], forms[:, :-1] + 0.4 * told)
    half = simulate("sign_of_miss", seeds=3, throws=2, step_scale=0.5)
    np.testing.assert_allclose(
        np.abs(np.diff(half.forms, axis=1))[:, 0], np.broadcast_to(SIGN_STEP / 2, (3, 2))
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"step_scale": 0.0}, "step_scale must be a finite number > 0"),
        ({"step_scale": float("inf")}, "step_scale must be a finite number > 0"),
        ({"step_scale": float("nan")}, "step_scale must be a finite number > 0"),
        ({"step_scale": (1.0, 0.0)}, "or a \\(direction, speed\\) pair of them"),
        ({"step_scale": (1.0, 2.0, 3.0)}, "or a \\(direction, speed\\) pair of them"),
        ({"step_scale": [[1.0, 2.0]]}, "or a \\(direction, speed\\) pair of them"),
        ({"seeds": 0}, "seeds must be an integer >= 1"),
        ({"seeds": 2.5}, "seeds must be an integer >= 1"),
        ({"seeds": []}, "seeds must be a positive int or a 1-D array of ints"),
        ({"seeds": [1.5, 2.0]}, "seeds must be a positive int or a 1-D array of ints"),
        ({"throws": 0}, "throws must be an integer >= 1"),
        ({"throws": True}, "throws must be an integer >= 1"),
    ],
)
def test_simulate_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate("miss_vector", **kwargs)


def test_throws_to_steady_definition():
    hits = np.array(
        [
            [0, 0, 1, 1, 1, 1],  # spell opens at throw 2
            [1, 0, 1, 1, 0, 1],  # throw 0 opens 1,0,1,1 = 75%
            [0, 1, 0, 0, 1, 0],  # never steady: the budget, 6
            [0, 0, 0, 1, 1, 1],  # a spell must fit: 1,1,1 then nothing, never steady
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(throws_to_steady(hits, window=4, rate=0.75), [2, 0, 6, 6])


@pytest.mark.parametrize(
    "hits, kwargs, match",
    [
        (np.ones(5), {}, r"hits must have shape \(sessions, throws\)"),
        (np.ones((2, 5)), {"window": 6}, "window must be <= the number of throws 5"),
        (np.ones((2, 5)), {"window": 0}, "window must be an integer >= 1"),
        (np.ones((2, 5)), {"window": 3, "rate": 0.0}, r"rate must be in \(0, 1\]"),
        (np.ones((2, 5)), {"window": 3, "rate": 1.5}, r"rate must be in \(0, 1\]"),
    ],
)
def test_throws_to_steady_rejects_bad_arguments(hits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        throws_to_steady(hits, **kwargs)


def test_summarize_counts_sessions_and_hit_rates():
    hits = np.zeros((4, 30), dtype=bool)
    hits[0, 2:] = True  # steady from throw 2
    hits[1, 5:] = True  # steady from throw 5
    hits[2, 8:] = True  # steady from throw 8
    # session 3 never makes a basket
    practice = Practice("miss_vector", np.zeros((4, 30, 2)), np.zeros((4, 30, 2)), hits)
    summary = summarize(practice, early_throws=10, late_throws=5, window=5, rate=0.8)
    np.testing.assert_allclose(summary.before_steady, np.percentile([2, 5, 8, 30], [25, 50, 75]))
    assert summary.never_steady == 1
    early = np.array([0.8, 0.5, 0.2, 0.0])
    assert summary.early == pytest.approx(early.mean())
    assert summary.early_se == pytest.approx(early.std(ddof=1) / 2)
    assert summary.late == pytest.approx(0.75) and summary.late_se == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"early_throws": 0}, "early_throws must be an integer >= 1"),
        ({"early_throws": 31}, "early_throws must be <= the number of throws 30, got 31"),
        ({"late_throws": 31}, "late_throws must be <= the number of throws 30, got 31"),
        ({"window": 31}, "window must be <= the number of throws 30"),
    ],
)
def test_summarize_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        summarize(simulate("miss_vector", seeds=2, throws=30), **({"late_throws": 10} | kwargs))


def test_summarize_needs_two_sessions():
    with pytest.raises(ValueError, match="at least 2 sessions, got 1"):
        summarize(simulate("miss_vector", seeds=1, throws=30), late_throws=10)


def test_a_step_scale_pair_scales_direction_and_speed_separately():
    pair = simulate("miss_vector", seeds=3, throws=20, step_scale=(2.0, 0.5))
    np.testing.assert_allclose(
        np.diff(pair.forms, axis=1), -np.array([2.0, 0.5]) * GAIN * pair.misses[:, :-1]
    )
    still = Court(direction_noise=0.0, speed_noise=0.0)
    forms = simulate("form_coaching", seeds=3, throws=5, court=still, step_scale=(1.0, 0.4)).forms
    told = coach_says("form_coaching", still, forms[:, :-1])[..., 1, :]
    np.testing.assert_allclose(forms[:, 1:], forms[:, :-1] + np.array([1.0, 0.4]) * told)
    for coach in COACHES:
        same = simulate(coach, seeds=2, throws=30, step_scale=(1.5, 1.5))
        np.testing.assert_array_equal(
            same.forms, simulate(coach, seeds=2, throws=30, step_scale=1.5).forms
        )


def test_miss_vector_with_newton_gains_throws_like_the_form_coach():
    # at a straight throw J is diagonal, so gains 1 / J_ii make the miss-vector rule the
    # Newton step up to the small off-diagonal terms away from it
    court = Court()
    newton_gain = 1 / np.diag(court.jacobian(court.ideal_form))
    bold = simulate("miss_vector", seeds=30, court=court, step_scale=newton_gain / GAIN)
    coached = simulate("form_coaching", seeds=30, court=court)
    assert np.mean(bold.hits == coached.hits) > 0.99
    # after the first few throws the two forms differ by less than half the execution noise
    gap = np.abs(bold.forms[:, 5:] - coached.forms[:, 5:]).max(axis=(0, 1))
    assert np.all(gap < 0.5 * np.array([court.direction_noise, court.speed_noise]))


@pytest.mark.parametrize("coach", ["sign_of_miss", "left_or_right"])
def test_fixed_sign_steps_keep_their_first_size(coach):
    fixed = simulate(coach, seeds=4, throws=60, shrink_sign_steps=False)
    step = np.abs(np.diff(fixed.forms, axis=1))[..., 0]  # the direction, a sign rule in both
    moved = step > 0
    np.testing.assert_allclose(step[moved], SIGN_STEP[0])
    assert moved.sum() >= 8
    if coach == "sign_of_miss":
        speed_step = np.abs(np.diff(fixed.forms, axis=1))[..., 1]
        np.testing.assert_allclose(speed_step[speed_step > 0], SIGN_STEP[1])
    # with halving (the default) the steps shrink
    halving = simulate(coach, seeds=4, throws=60)
    assert np.abs(np.diff(halving.forms, axis=1))[:, -10:, 0].max() < SIGN_STEP[0] / 2


def test_summary_rows_format_summarize():
    practice = simulate("miss_vector", seeds=20, throws=100)
    rows = summary_rows({"miss_vector": practice, "my rule": practice})
    assert list(rows) == [COACH_NAMES["miss_vector"], "my rule"]
    s = summarize(practice)
    q1, median, q3 = s.before_steady
    row = rows["miss vector"]
    assert list(row) == ["median", "IQR", "early", "late"]
    assert row["median"] == f"{median:g}"
    assert row["IQR"] == f"{q1:.0f}\u2013\u2060{q3:.0f}"
    assert row["late"] == f"{s.late:.3f} \u00b1\u00a0{s.late_se:.3f}"
    assert row["early"].startswith(f"{s.early:.3f} ")


def test_plot_practice_draws_curves_boxes_and_censored_sessions():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import to_rgba

    from companion.plotting import new_figure

    court = Court()
    practices = {coach: simulate(coach, seeds=40, throws=120) for coach in COACHES}
    fig, axes = new_figure(1, 2)
    plot_practice(practices, court, axes)
    top, bottom = axes
    # one median line per coach plus the rim's radius
    assert len(top.lines) == len(COACHES) + 1
    np.testing.assert_allclose(
        top.lines[0].get_ydata(), np.median(practices["hit_or_miss"].miss_distance, axis=0)
    )
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend == [COACH_NAMES[c] for c in COACHES] + ["rim radius"]
    # black medians; the sessions that never became steady drawn apart, at the budget
    boxes = [line for line in bottom.lines if line.get_marker() == ">"]
    censored = sum(int(np.sum(throws_to_steady(p.hits) >= 120)) for p in practices.values())
    assert censored > 0 and sum(len(b.get_xdata()) for b in boxes) == censored
    assert all(np.all(b.get_xdata() == 120) for b in boxes)
    medians = [line for line in bottom.lines if line.get_marker() in ("", "None")]
    assert medians and all(to_rgba(m.get_color()) == to_rgba("black") for m in medians[-5:])
    fliers = [line for line in bottom.lines if line.get_marker() == "o"]
    assert all(np.all(f.get_xdata() < 120) for f in fliers)
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="plot_practice needs two axes, got 1"):
        plot_practice(practices, court, [top])
