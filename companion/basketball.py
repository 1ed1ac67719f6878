r"""The free-throw coach: a small simulation of learning from feedback of different richness.

A shooter controls two things, the direction :math:`\phi` of the throw (radians, 0 is straight at
the hoop, positive is to the right) and the release speed :math:`v` (m/s). The ball leaves at 45
degrees from the height of the rim, so, without air drag, it comes down at the range
:math:`R = v^2 / g` in direction :math:`\phi`. Measured from the centre of the hoop, which stands
:math:`L` metres away, the throw misses by

.. math::
    m(\phi, v) = \begin{pmatrix} x \\ y \end{pmatrix}
    = \begin{pmatrix} R \sin\phi \\ R\cos\phi - L \end{pmatrix},
    \qquad R = \frac{v^2}{g},

with :math:`x > 0` to the right of the hoop and :math:`y > 0` beyond it (too long). Nobody
executes exactly the form they intend: every throw adds Gaussian noise to the intended direction
and speed. A throw is *made* when the ball comes down within the rim's radius of the centre,
:math:`\lVert m \rVert \le r` (a simplification: no ball size, no bounces off the rim).

Five coaches watch every throw, and each says only one kind of thing:

``"hit_or_miss"``
    1 if the ball went in, else 0.
``"left_or_right"``
    -1 for too far left, +1 for too far right, 0 when it went in: the sign of the sideways miss
    on a miss (nothing about depth), plus the hit bit of ``"hit_or_miss"``.
``"sign_of_miss"``
    The signs of both coordinates of the miss, :math:`(\operatorname{sign} x,
    \operatorname{sign} y)`: which way on each axis, never how far. This is the gradient of the
    L1 loss :math:`|x| + |y|` of the miss.
``"miss_vector"``
    The miss :math:`m = (x, y)` in metres.
``"form_coaching"``
    The miss plus how much to change each part of the form: the miss mapped back through the
    shot model, :math:`\Delta = -J^{-1} m` with :math:`J` the Jacobian of :math:`m` at the form
    the coach saw (one Newton step on :math:`m = 0`).

Each coach is paired with a learning rule that uses nothing but what that coach says; see
:func:`simulate`. Everything is vectorised over seeds, so 30 practice sessions of 400 throws take
a few milliseconds. :func:`summary_rows` and :func:`plot_practice` turn sessions into chapter 1's
table and figure (the figure needs matplotlib).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from companion._checks import as_seeds, check_count

GRAVITY = 9.81
"""Gravitational acceleration :math:`g` in metres per second squared."""

COACHES = ("hit_or_miss", "left_or_right", "sign_of_miss", "miss_vector", "form_coaching")
"""The five coaches, in the order of chapter 1's table. Each after the first says which way to
move on more axes, or also how far, than the one before; ``"left_or_right"`` alone also repeats
the hit bit of ``"hit_or_miss"``, so the chain is not strictly nested."""

COACH_NAMES = {
    "hit_or_miss": "hit or miss",
    "left_or_right": "left or right",
    "sign_of_miss": "sign of the miss",
    "miss_vector": "miss vector",
    "form_coaching": "form coaching",
}
"""The coaches' names in plain words, for tables and legends."""


def _split_form(form: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The direction and speed parts of forms of shape ``(..., 2)``."""
    form = np.asarray(form, dtype=np.float64)
    if form.ndim == 0 or form.shape[-1] != 2:
        raise ValueError(f"a form must have shape (..., 2) = (direction, speed), got {form.shape}")
    return form[..., 0], form[..., 1]


@dataclass(frozen=True)
class Court:
    r"""The geometry of the free throw and how precisely the shooter executes a form.

    Parameters
    ----------
    hoop_distance : float
        :math:`L`, metres from the release point to the centre of the hoop.
    rim_radius : float
        :math:`r`, a throw is made when it lands within this many metres of the centre.
    direction_noise : float
        Standard deviation of the executed direction around the intended one (radians).
    speed_noise : float
        Standard deviation of the executed speed around the intended one (m/s).
    """

    hoop_distance: float = 4.2
    rim_radius: float = 0.23
    direction_noise: float = 0.012
    speed_noise: float = 0.04

    def __post_init__(self) -> None:
        for name in ("hoop_distance", "rim_radius"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        for name in ("direction_noise", "speed_noise"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")

    @property
    def ideal_form(self) -> np.ndarray:
        r"""The dead-centre form, direction :math:`\phi = 0` and speed :math:`\sqrt{gL}`."""
        return np.array([0.0, np.sqrt(GRAVITY * self.hoop_distance)])

    def miss(self, form: np.ndarray) -> np.ndarray:
        """Where a throw with ``form[..., 0]`` = direction, ``form[..., 1]`` = speed lands,
        relative to the hoop centre: shape ``(..., 2)`` = (x to the right, y beyond)."""
        direction, speed = _split_form(form)
        reach = speed**2 / GRAVITY
        return np.stack(
            [reach * np.sin(direction), reach * np.cos(direction) - self.hoop_distance], axis=-1
        )

    def jacobian(self, form: np.ndarray) -> np.ndarray:
        r"""The derivative of :meth:`miss` in (direction, speed), shape ``(..., 2, 2)``.

        Row :math:`i`, column :math:`j` holds :math:`\partial m_i / \partial \theta_j`, with
        :math:`\theta = (\phi, v)`:

        .. math::
            J = \begin{pmatrix} R\cos\phi & (2v/g)\sin\phi \\
                                -R\sin\phi & (2v/g)\cos\phi \end{pmatrix}
        """
        direction, speed = _split_form(form)
        reach, dreach = speed**2 / GRAVITY, 2 * speed / GRAVITY
        cos, sin = np.cos(direction), np.sin(direction)
        return np.stack(
            [np.stack([reach * cos, dreach * sin], -1), np.stack([-reach * sin, dreach * cos], -1)],
            axis=-2,
        )


@dataclass(frozen=True)
class Practice:
    """The record of one practice session per seed, all arrays with a leading seed axis.

    Attributes
    ----------
    coach : str
        Which coach gave the feedback.
    forms : numpy.ndarray
        The intended (direction, speed) of every throw, shape ``(seeds, throws, 2)``.
    misses : numpy.ndarray
        Where every throw landed relative to the hoop centre in metres, shape
        ``(seeds, throws, 2)``.
    hits : numpy.ndarray
        Whether every throw went in (bool), shape ``(seeds, throws)``.
    """

    coach: str
    forms: np.ndarray
    misses: np.ndarray
    hits: np.ndarray

    @property
    def miss_distance(self) -> np.ndarray:
        """Distance of every landing point from the hoop centre, shape ``(seeds, throws)``."""
        distance: np.ndarray = np.linalg.norm(self.misses, axis=-1)
        return distance


def _draws(court: Court, seeds: np.ndarray, throws: int) -> tuple[np.ndarray, ...]:
    """Per seed: a starting form, execution noise, exploration noise. Every coach sees the same
    start and the same execution noise for a given seed, so the comparison is paired."""
    starts, noise, explore = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(int(seed))
        direction = rng.choice([-1.0, 1.0]) * rng.uniform(0.08, 0.16)
        speed = court.ideal_form[1] * (1.0 + rng.choice([-1.0, 1.0]) * rng.uniform(0.04, 0.08))
        starts.append([direction, speed])
        noise.append(rng.standard_normal((throws, 2)))
        explore.append(rng.standard_normal((throws, 2)))
    scale = np.array([court.direction_noise, court.speed_noise])
    return np.array(starts), np.array(noise) * scale, np.array(explore)


class _Learner(Protocol):
    """A learning rule: the form it intends to throw next, and how it reacts to the coach."""

    @property
    def form(self) -> np.ndarray: ...

    def learn(self, t: int, said: np.ndarray) -> None: ...


class _HitOrMiss:
    """Keep what went in, otherwise try a random variation of the last form that went in."""

    def __init__(self, start: np.ndarray, explore: np.ndarray, step: np.ndarray) -> None:
        self.anchor, self._form, self.explore, self.step = start.copy(), start.copy(), explore, step

    @property
    def form(self) -> np.ndarray:
        return self._form

    def learn(self, t: int, said: np.ndarray) -> None:
        made = np.asarray(said) != 0
        self.anchor = np.where(made[:, None], self._form, self.anchor)
        tried = self.anchor + self.step * self.explore[:, t]
        self._form = np.where(made[:, None], self._form, tried)


class _SignSteps:
    """Step each part of the form against the coach's sign on its axis, halving an axis's step
    whenever its sign flips when ``shrink`` (a zero sign leaves the axis alone)."""

    def __init__(self, start: np.ndarray, first_step: np.ndarray, shrink: bool = True) -> None:
        self._form = start.copy()
        self.step = np.broadcast_to(first_step, start.shape).copy()
        self.last_sign = np.zeros_like(start)
        self.shrink = shrink

    @property
    def form(self) -> np.ndarray:
        return self._form

    def learn(self, t: int, said: np.ndarray) -> None:
        if self.shrink:
            flipped = said * self.last_sign < 0
            self.step = np.where(flipped, self.step / 2, self.step)
        self._form = self._form - self.step * said
        self.last_sign = np.where(said != 0, said, self.last_sign)


class _LeftOrRight:
    """The direction by :class:`_SignSteps` on the coach's -1/0/+1; the speed only learns from
    'made it' (0) versus not, like :class:`_HitOrMiss`."""

    def __init__(
        self,
        start: np.ndarray,
        explore: np.ndarray,
        sign_step: float,
        speed_step: float,
        shrink: bool = True,
    ) -> None:
        self.direction = _SignSteps(start[:, :1], np.array([sign_step]), shrink)
        self.speed = _HitOrMiss(start[:, 1:], explore[:, :, 1:], np.array([speed_step]))

    @property
    def form(self) -> np.ndarray:
        return np.concatenate([self.direction.form, self.speed.form], axis=-1)

    def learn(self, t: int, said: np.ndarray) -> None:
        self.direction.learn(t, said[:, None])
        self.speed.learn(t, said == 0)


class _Proportional:
    """Correct each part of the form by a fixed gain times the miss on its axis."""

    def __init__(self, start: np.ndarray, gain: np.ndarray) -> None:
        self._form, self.gain = start.copy(), gain

    @property
    def form(self) -> np.ndarray:
        return self._form

    def learn(self, t: int, said: np.ndarray) -> None:
        self._form = self._form - self.gain * said


class _FollowCoach:
    """Apply a fixed share of the coach's change of form, per axis (all of it by default)."""

    def __init__(self, start: np.ndarray, share: np.ndarray) -> None:
        self._form, self.share = start.copy(), share

    @property
    def form(self) -> np.ndarray:
        return self._form

    def learn(self, t: int, said: np.ndarray) -> None:
        self._form = self._form + self.share * said[:, 1]


def coach_says(coach: str, court: Court, executed: np.ndarray) -> np.ndarray:
    """What ``coach`` tells the shooter after throws executed with the forms ``executed``.

    Parameters
    ----------
    coach : str
        One of :data:`COACHES`.
    court : Court
        The shot model and the rim.
    executed : numpy.ndarray, shape (..., 2)
        The (direction, speed) actually thrown.

    Returns
    -------
    numpy.ndarray
        ``"hit_or_miss"``: 1.0 or 0.0, shape ``(...)``. ``"left_or_right"``: -1.0, 0.0 or 1.0,
        shape ``(...)``. ``"sign_of_miss"``: -1.0, 0.0 or 1.0 per axis, shape ``(..., 2)``.
        ``"miss_vector"``: the miss, shape ``(..., 2)``. ``"form_coaching"``: the miss and the
        change of form :math:`-J^{-1} m`, stacked, shape ``(..., 2, 2)``.
    """
    if coach not in COACHES:
        raise ValueError(f"coach must be one of {COACHES}, got {coach!r}")
    miss = court.miss(executed)
    made: np.ndarray = np.linalg.norm(miss, axis=-1) <= court.rim_radius
    if coach == "hit_or_miss":
        return made.astype(np.float64)
    if coach == "left_or_right":
        side: np.ndarray = np.where(made, 0.0, np.sign(miss[..., 0]))
        return side
    if coach == "sign_of_miss":
        signs: np.ndarray = np.sign(miss)
        return signs
    if coach == "miss_vector":
        return miss
    change = -np.linalg.solve(court.jacobian(executed), miss[..., None])[..., 0]
    return np.stack([miss, change], axis=-2)


EXPLORE_STEP = np.array([0.06, 0.25])
"""Size of the hit-or-miss learners' random variations, in radians and m/s (times N(0, 1))."""

SIGN_STEP = np.array([0.04, 0.1])
"""First steps of the sign learners, in radians (direction) and m/s (speed)."""

GAIN = np.array([0.1, 0.3])
"""The miss-vector learner's gains, in radians per metre sideways and m/s per metre long."""


def _step_scale(step_scale: float | Sequence[float]) -> np.ndarray:
    """``step_scale`` as a (direction, speed) pair of finite numbers > 0."""
    scale = np.asarray(step_scale, dtype=np.float64)
    if scale.shape not in ((), (2,)) or not (np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(
            "step_scale must be a finite number > 0 or a (direction, speed) pair of them, "
            f"got {step_scale!r}"
        )
    return np.broadcast_to(scale, (2,))


def simulate(
    coach: str,
    seeds: int | np.ndarray = 30,
    throws: int = 400,
    court: Court | None = None,
    *,
    step_scale: float | Sequence[float] = 1.0,
    shrink_sign_steps: bool = True,
) -> Practice:
    r"""Practice sessions, one per seed, in which the shooter learns only from ``coach``.

    Every session starts from a seeded form that misses by roughly half a metre to a metre, and adds
    seeded execution noise (:class:`Court`) to every throw. A given seed gives every coach the
    same start and the same noise. The learning rules, each using only its coach's words, with
    every step size multiplied by ``step_scale``:

    ``"hit_or_miss"`` (hill climbing on hits)
        After a make, throw the same form again. After a miss, try the last form that went in
        (the start before any make) plus a random variation of size :data:`EXPLORE_STEP`.
    ``"left_or_right"`` (sign steps on one axis)
        Direction: :math:`\phi \leftarrow \phi - \delta\,s` with :math:`s` the coach's -1/0/+1;
        :math:`\delta` starts at ``SIGN_STEP[0]`` and halves whenever :math:`s` flips. Speed: the
        coach says nothing about depth, only 'made it' (0) or not, so the speed is found by the
        hit-or-miss rule.
    ``"sign_of_miss"`` (sign steps on both axes)
        The same sign rule on each axis, :math:`\theta_j \leftarrow \theta_j - \delta_j\,
        \operatorname{sign} m_j`, with first steps :data:`SIGN_STEP`, each halving whenever its
        sign flips.
    ``"miss_vector"`` (proportional correction)
        :math:`(\phi, v) \leftarrow (\phi, v) - k \odot (x, y)` with the fixed gains
        :math:`k` = :data:`GAIN`, a cautious rule of thumb (about 40% of the exact correction).
    ``"form_coaching"`` (follow the coach)
        :math:`(\phi, v) \leftarrow (\phi, v) + \Delta`, the Newton step the coach computed
        (times ``step_scale``).

    Parameters
    ----------
    coach : str
        One of :data:`COACHES`.
    seeds : int or array_like of int
        Number of sessions (seeds ``0 .. seeds-1``) or the seeds themselves.
    throws : int
        Throws per session.
    court : Court, optional
        Geometry and execution noise; default ``Court()``.
    step_scale : float or (float, float)
        Multiplies the rule's step sizes (> 0), either both axes' or, given a pair, the
        direction's by the first number and the speed's by the second: 0.4 makes the
        form-coached shooter apply 40% of each correction, 2.0 doubles the miss-vector gains.
    shrink_sign_steps : bool
        Whether the sign rules (``"left_or_right"``'s direction, ``"sign_of_miss"``) halve an
        axis's step when its sign flips. ``False`` keeps the first steps throughout: plain sign
        descent with a fixed step.

    Returns
    -------
    Practice

    Examples
    --------
    >>> practice = simulate("form_coaching", seeds=3, throws=10)
    >>> practice.hits.shape
    (3, 10)
    """
    if coach not in COACHES:
        raise ValueError(f"coach must be one of {COACHES}, got {coach!r}")
    check_count("throws", throws, 1)
    scale = _step_scale(step_scale)
    seeds = as_seeds(seeds)
    court = Court() if court is None else court
    start, noise, explore = _draws(court, seeds, throws)
    explore_step, sign_step = scale * EXPLORE_STEP, scale * SIGN_STEP
    learner: _Learner
    if coach == "hit_or_miss":
        learner = _HitOrMiss(start, explore, explore_step)
    elif coach == "left_or_right":
        learner = _LeftOrRight(
            start, explore, sign_step[0], explore_step[1], shrink=shrink_sign_steps
        )
    elif coach == "sign_of_miss":
        learner = _SignSteps(start, sign_step, shrink=shrink_sign_steps)
    elif coach == "miss_vector":
        learner = _Proportional(start, scale * GAIN)
    else:
        learner = _FollowCoach(start, scale)
    forms, misses = [], []
    for t in range(throws):
        executed = learner.form + noise[:, t]
        forms.append(learner.form)
        misses.append(court.miss(executed))
        learner.learn(t, coach_says(coach, court, executed))
    landed = np.stack(misses, axis=1)
    hits = np.linalg.norm(landed, axis=-1) <= court.rim_radius
    return Practice(coach, np.stack(forms, axis=1), landed, hits)


def throws_to_steady(hits: np.ndarray, window: int = 20, rate: float = 0.8) -> np.ndarray:
    r"""Throws taken before the shooter's first steady spell, per session.

    A steady spell is ``window`` consecutive throws that open with a make and of which at least
    a share ``rate`` went in. The result is the index :math:`t` of the first throw of the first
    steady spell, which is the number of throws spent before it. A session with no steady spell
    gets its number of throws (the budget): read that as 'at least this many'.

    Parameters
    ----------
    hits : array_like of bool, shape (sessions, throws)
        Whether each throw went in.
    window : int
        Length of a spell, at most the number of throws.
    rate : float
        Required share of makes in the spell, in (0, 1].

    Returns
    -------
    numpy.ndarray of int, shape (sessions,)

    Examples
    --------
    >>> throws_to_steady([[0, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0]], window=4, rate=0.75)
    array([1, 6])
    """
    hits = np.asarray(hits)
    if hits.ndim != 2:
        raise ValueError(f"hits must have shape (sessions, throws), got {hits.shape}")
    check_count("window", window, 1)
    if window > hits.shape[1]:
        raise ValueError(f"window must be <= the number of throws {hits.shape[1]}, got {window}")
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be in (0, 1], got {rate!r}")
    counts = np.lib.stride_tricks.sliding_window_view(hits.astype(int), window, axis=1).sum(-1)
    steady = (counts >= np.ceil(rate * window - 1e-9)) & (hits[:, : counts.shape[1]] != 0)
    spent: np.ndarray = np.where(steady.any(axis=1), steady.argmax(axis=1), hits.shape[1])
    return spent


@dataclass(frozen=True)
class SessionSummary:
    """How a coach's practice sessions went, summarised over the sessions (seeds).

    Attributes
    ----------
    before_steady : numpy.ndarray
        The quartiles (25th, 50th and 75th percentiles) of the throws taken before the first
        steady spell (:func:`throws_to_steady`); the middle one is the median, and the first
        and last bound the interquartile range (IQR), which holds the middle half of the
        sessions.
    never_steady : int
        Sessions with no steady spell within their throws.
    early, late : float
        Share of makes among the first ``early_throws`` and the last ``late_throws`` throws,
        averaged over the sessions.
    early_se, late_se : float
        Standard errors of ``early`` and ``late``: the standard deviation of the per-session
        shares divided by the square root of the number of sessions.
    """

    before_steady: np.ndarray
    never_steady: int
    early: float
    early_se: float
    late: float
    late_se: float


def summarize(
    practice: Practice,
    *,
    early_throws: int = 20,
    late_throws: int = 100,
    window: int = 20,
    rate: float = 0.8,
) -> SessionSummary:
    """Summarise the sessions of ``practice``: when they became steady, and their hit rates.

    ``window`` and ``rate`` define a steady spell as in :func:`throws_to_steady`.

    Examples
    --------
    >>> summary = summarize(simulate("form_coaching", seeds=50))
    >>> summary.before_steady.tolist(), summary.never_steady
    ([1.0, 1.0, 1.0], 0)
    """
    throws = practice.hits.shape[1]
    sessions = practice.hits.shape[0]
    for name, value in (("early_throws", early_throws), ("late_throws", late_throws)):
        check_count(name, value, 1)
        if value > throws:
            raise ValueError(f"{name} must be <= the number of throws {throws}, got {value}")
    if sessions < 2:
        raise ValueError(f"a summary needs at least 2 sessions, got {sessions}")
    spent = throws_to_steady(practice.hits, window=window, rate=rate)
    early = practice.hits[:, :early_throws].mean(axis=1)
    late = practice.hits[:, -late_throws:].mean(axis=1)
    root = np.sqrt(sessions)
    return SessionSummary(
        before_steady=np.percentile(spent, [25, 50, 75]),
        never_steady=int(np.sum(spent >= throws)),
        early=float(early.mean()),
        early_se=float(early.std(ddof=1) / root),
        late=float(late.mean()),
        late_se=float(late.std(ddof=1) / root),
    )


def summary_rows(practices: Mapping[str, Practice]) -> dict[str, dict[str, str]]:
    """One row of chapter 1's practice table per entry of ``practices``, as text.

    The row is labelled with the coach's plain name (:data:`COACH_NAMES`) when the key is a
    coach, else with the key itself. Its columns (:func:`summarize`): ``"median"`` and
    ``"IQR"`` of the throws before the first steady spell, and the ``"early"`` and ``"late"``
    hit rates with their standard errors. Dashes and ``±`` are glued to their numbers, so that a
    narrow table never breaks a cell there; pass the result to
    ``pandas.DataFrame.from_dict(rows, orient="index")``.

    Examples
    --------
    >>> rows = summary_rows({"form_coaching": simulate("form_coaching", seeds=50)})
    >>> rows["form coaching"]["median"], rows["form coaching"]["late"]
    ('1', '0.996 ±\\xa00.001')
    """
    rows = {}
    for key, practice in practices.items():
        s = summarize(practice)
        q1, median, q3 = s.before_steady
        rows[COACH_NAMES.get(key, key)] = {
            "median": f"{median:g}",
            "IQR": f"{q1:.0f}\u2013\u2060{q3:.0f}",  # en dash, then word joiner: no break
            "early": f"{s.early:.3f} \u00b1\u00a0{s.early_se:.3f}",
            "late": f"{s.late:.3f} \u00b1\u00a0{s.late_se:.3f}",
        }
    return rows


def plot_practice(practices: Mapping[str, Practice], court: Court, axes: Sequence[Any]) -> None:
    """Chapter 1's practice figure: the miss throw by throw, and the throws before steady.

    ``axes`` holds two stacked axes. The first gets, per coach, the median distance of the
    landing point from the hoop's centre at each throw with a band from the 25th to the 75th
    percentile over the sessions, the rim's radius as a dashed line, and the legend below it.
    The second gets one horizontal box per coach of :func:`throws_to_steady` (first coach on
    top; black median lines; whiskers to the farthest session within 1.5 box lengths of the
    box; dots for the sessions beyond them), on which the sessions that never became steady,
    recorded at the budget and meaning 'at least this many', are drawn as open triangles.
    Needs matplotlib.
    """
    from companion.plotting import label, plain_log_axis

    if len(axes) != 2:
        raise ValueError(f"plot_practice needs two axes, got {len(axes)}")
    ax_curve, ax_box = axes
    names = [COACH_NAMES.get(key, key) for key in practices]
    for name, practice in zip(names, practices.values(), strict=True):
        q1, median, q3 = np.percentile(practice.miss_distance, [25, 50, 75], axis=0)
        throw_number = np.arange(1, median.size + 1)
        (line,) = ax_curve.plot(throw_number, median, label=name)
        ax_curve.fill_between(throw_number, q1, q3, color=line.get_color(), alpha=0.2)
    ax_curve.axhline(court.rim_radius, color="black", linestyle="--", label="rim radius")
    plain_log_axis(ax_curve, "x")
    label(ax_curve, "Distance from the hoop's centre", "throw", "miss (m)")
    ax_curve.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, frameon=False)

    spent = [throws_to_steady(p.hits) for p in practices.values()]
    budget = [p.hits.shape[1] for p in practices.values()]
    boxes = ax_box.boxplot(
        spent, orientation="horizontal", widths=0.4, medianprops={"color": "black"}
    )
    for row, (fliers, counts, limit) in enumerate(
        zip(boxes["fliers"], spent, budget, strict=True), start=1
    ):
        shown = fliers.get_xdata()
        fliers.set_data(shown[shown < limit], np.full(np.sum(shown < limit), row))
        censored = counts[counts >= limit]
        if censored.size:
            ax_box.plot(
                censored,
                np.full(censored.size, row),
                ">",
                mfc="none",
                mec="black",
            )
    ax_box.set_yticks([])
    ax_box.set_ylim(len(spent) + 0.5, 0.3)  # first coach on top
    for row, name in enumerate(names, start=1):  # names above the boxes
        ax_box.text(1.0, row - 0.28, name, va="bottom", fontsize=11)
    plain_log_axis(ax_box, "x", ticks=[1, 3, 10, 30, 100, 400])
    label(ax_box, "Throws before the first steady spell", "throws", "")
