"""Challenge actions in a liveness video, from the 68 iBUG face landmarks of its frames.

Five measures per frame: the eye aspect ratio (Soukupova and Cech, 2016), the mouth's opening
(the inner lips' gap over the distance between the outer eye corners: over the mouth's own width,
as the classic mouth aspect ratio does, a broad toothy smile scores like a half-open mouth,
0.43, because a smile widens the mouth while opening it narrows it), the head's yaw and
pitch (`vision.headpose`), and the mouth's width (outer corners over the eye corners). Each
is judged against the person's own resting value, the median over the whole video, and their
own natural movement, the `sway`: how far the measure strays from rest outside the window (its
75th percentile). Narrow eyes, a habitually parted mouth, a
talker's lips, a lively head or a camera held below the chin do not read as actions. An action
is a deliberate movement: away from rest, beyond `SWAY_FACTOR` times the sway, and back towards
rest (to `RETURN` of its reach within the window or `RETURN_GRACE` after it). Per window:

- BLINK: the eyes close to at most `BLINK_RATIO` of their resting opening for at most half a
  second, open before and after (eyes narrowed by a smile stay narrowed longer), with the head
  near its resting pose (eyes looking down with a nod narrow too);
- OPEN_MOUTH: the lips part by `MOUTH_RISE` more than at rest (and beyond the sway), to at least
  `MOUTH_MIN` of the eye-corner distance (a surprised "O" reaches ~0.25; the broadest smiles in
  the reference photos 0.22-0.23, and they come from a closed resting mouth), and close again.
  A smaller opening, down to `MOUTH_MIN_UNWIDENED`, counts when the mouth did not widen at its
  peak (at most `SMILE_WIDENING` beyond its resting width): a smile parts the lips by pulling
  the corners apart, an opening jaw does not;
- SHAKE_HEAD: the yaw sweeps over `SHAKE_SPAN` degrees and reaches `SHAKE_REACH` from rest;
- NOD: the pitch sweeps over `NOD_SPAN` degrees and reaches `NOD_REACH` from rest (a nod goes
  down and back: most of its sweep is on one side of rest).

People react late to a prompt and apps stop recording when the last window ends: an asked
action may reach its farthest point up to `LATE` seconds after its window, the previous window's
action still under way at a window's start may run on `SPILL` seconds into it without counting
there, and a movement the recording stopped too early to see return counts without its return.

The challenge passes when each window holds its own action and no other deliberate action (a
blink elsewhere is involuntary and allowed): a video that performs every action everywhere, or
the right actions in another order, fails. Frames are sampled at 10 per second; where a blink
is asked, the eyes are read in every frame between, up to 30 a second (`blink_intervals`), so
that lids down for less than a tenth of a second are not missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from vision.headpose import head_pose

_RIGHT_EYE = slice(36, 42)
_LEFT_EYE = slice(42, 48)
_INNER_MOUTH = slice(60, 68)

# Sampled ten times a second, a blink is often caught half-shut, and the landmark predictor
# follows a closing lid only part of the way on some faces (0.77 of the resting opening at the
# deepest sample on two development faces).
BLINK_RATIO = 0.8
BLINK_LONGEST, BLINK_CONTEXT, REOPEN = 0.5, 0.8, 0.85
# A blink counts with the head near rest just before and after it (`_head_turned_around`).
AROUND = 0.2
# Thresholds for an action that was asked for, and stricter ones for calling an action that was
# not asked for "performed" (a smile, a glance aside must not fail an honest applicant). Each is
# a floor: the person's own natural movement outside the window (`sway`) raises it.
# A mouth opened on request rises 0.069 over rest at least on development clips of the smallest
# openings people make (a jaw dropping 0.15-0.25 mouth widths, `Performer.draw`: 24 clips, seed
# 501), while without a mouth action the measure stays within 0.035 of rest on a well-tracked
# face (a poorly tracked one strays further, and its own sway raises the floor); the floor sits
# between the two, 0.05 (0.049 is their geometric mean).
MOUTH_RISE, MOUTH_MIN = 0.05, 0.24
# An opening that is not a smile: the lips part by MOUTH_RISE to at least this (MOUTH_RISE itself
# from a closed mouth), and the mouth's width at the peak stays within SMILE_WIDENING of its
# resting width.
MOUTH_MIN_UNWIDENED, SMILE_WIDENING = MOUTH_RISE, 0.06
# An asked head turn sweeps SPAN degrees and reaches REACH degrees away from rest. Measured
# against the mean 3D face, a real face's turn reads short of the turn performed (a flatter face
# moves its landmarks less), and a nod goes down and comes back with little or no swing past
# rest: on development clips of people who differ (`synthetic.challenge_video.Performer`: nods
# of 10-20 degrees, shakes of 15-30 each way, faces 0.6-1.0 as deep as the mean) the smallest
# nods read 5.7 degrees from rest with a 6.7 sweep, the smallest shakes a 13.3 sweep, while
# natural sway stays within 0.2-1.3 degrees (75th percentile); the sway check below keeps a
# lively head from passing.
SHAKE_SPAN, SHAKE_REACH = 12.0, 6.0
NOD_SPAN, NOD_REACH = 6.0, 5.0
EXTRA_MOUTH_RISE, EXTRA_MOUTH_MIN = 0.25, 0.4
EXTRA_SHAKE_SPAN, EXTRA_NOD_SPAN = 30.0, 20.0
# A deliberate movement reaches this many times the person's natural excursion (`sway`: the
# 75th percentile of the distance from rest outside the window), and comes back: after its
# farthest point the measure falls to RETURN of it, inside the window or RETURN_GRACE after.
SWAY_FACTOR = 1.6
RETURN, RETURN_GRACE = 0.5, 0.8
# People react late to a prompt: an asked action may peak up to LATE seconds after its window
# ends, and the previous window's action may run on SPILL seconds into the next window without
# counting there as an action that was not asked. A movement that peaks after its window must
# have come LATE_START of its way inside it: a late person starts in the window (the
# development's late performers do at least 30 % of the action in it: 0.55-0.95 of the way),
# while the next window's movement, replayed from a clip of another order, starts after it.
LATE, SPILL, LATE_START = 0.5, 1.0, 0.5
# A window needs this many frames with the face before anything is said about it.
MIN_WINDOW_SAMPLES = 3
DELIBERATE = (LivenessAction.OPEN_MOUTH, LivenessAction.SHAKE_HEAD, LivenessAction.NOD)
FEATURES = ("eyes", "mouth", "yaw", "pitch", "mouth_width")


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) over the six points of one eye."""
    width = _dist(eye[0], eye[3])
    if width == 0:
        return 0.0
    return (_dist(eye[1], eye[5]) + _dist(eye[2], eye[4])) / (2.0 * width)


def mean_eye_aspect_ratio(landmarks: np.ndarray) -> float:
    return (eye_aspect_ratio(landmarks[_RIGHT_EYE]) + eye_aspect_ratio(landmarks[_LEFT_EYE])) / 2


def mouth_width(landmarks: np.ndarray) -> float:
    """The mouth's outer corners' distance (48-54) over the outer eye corners' (36-45)."""
    span = _dist(landmarks[36], landmarks[45])
    return _dist(landmarks[48], landmarks[54]) / span if span else 0.0


def mouth_opening(landmarks: np.ndarray) -> float:
    """Mean inner-lip gap (61-67, 62-66, 63-65) over the outer eye corners' distance (36-45)."""
    span = _dist(landmarks[36], landmarks[45])
    if span == 0:
        return 0.0
    mouth = landmarks[_INNER_MOUTH]
    gap = _dist(mouth[1], mouth[7]) + _dist(mouth[2], mouth[6]) + _dist(mouth[3], mouth[5])
    return gap / 3.0 / span


@dataclass(frozen=True)
class LandmarkSample:
    """The landmarks of one frame at time t_s, in an image of `size` (width, height)."""

    t_s: float
    landmarks: np.ndarray
    size: tuple[int, int] = (480, 640)

    @cached_property
    def features(self) -> np.ndarray:
        """Eye aspect ratio, mouth opening, yaw, pitch, mouth width."""
        pose = head_pose(self.landmarks, self.size)
        return np.array(
            [
                mean_eye_aspect_ratio(self.landmarks),
                mouth_opening(self.landmarks),
                pose.yaw,
                pose.pitch,
                mouth_width(self.landmarks),
            ]
        )


@dataclass(frozen=True)
class Session:
    """The samples of one video with their features, and the person's resting values."""

    times: np.ndarray
    features: np.ndarray  # (n, 5): FEATURES
    resting: np.ndarray  # (5,)
    # The eyes' opening over the samples and the frames taken between them where a blink was
    # asked (`blink_intervals`), in time order.
    eye_times: np.ndarray
    eyes: np.ndarray

    @classmethod
    def of(cls, samples: Sequence[LandmarkSample], extra: Sequence[LandmarkSample] = ()) -> Session:
        features = np.array([s.features for s in samples]).reshape(-1, len(FEATURES))
        # Head pose from one frame's landmarks jitters by a few degrees and now and then jumps;
        # a running median of three keeps real turns and drops single-frame jumps. Eyes are
        # left alone: a blink may last a single sample.
        if len(features) >= 3:
            pose = features[:, 2:4]
            stacked = np.stack(
                [pose, np.vstack([pose[:1], pose[:-1]]), np.vstack([pose[1:], pose[-1:]])]
            )
            features = np.hstack([features[:, :2], np.median(stacked, axis=0), features[:, 4:]])
        resting = np.median(features, axis=0) if len(samples) else np.zeros(len(FEATURES))
        times = np.array([s.t_s for s in samples])
        eye_times = np.concatenate([times, [s.t_s for s in extra]])
        eyes = np.concatenate([features[:, 0], [mean_eye_aspect_ratio(s.landmarks) for s in extra]])
        order = np.argsort(eye_times, kind="stable")
        return cls(times, features, resting, eye_times[order], eyes[order])

    def inside(self, window: ActionWindow, late: float = 0.0) -> np.ndarray:
        """The features of the samples inside the window (and `late` seconds after it)."""
        return self.features[self._mask(window, late)]

    def _mask(self, window: ActionWindow, late: float = 0.0) -> np.ndarray:
        return (self.times >= window.start_s) & (self.times <= window.end_s + late)

    def sway(self, column: int, window: ActionWindow) -> float:
        """The person's natural excursion from rest on one measure, outside the window: the
        75th percentile, so that other windows' deliberate actions (a second or so each) do not
        count as natural movement."""
        outside = self.features[~self._mask(window), column]
        if len(outside) == 0:
            return 0.0
        return float(np.percentile(np.abs(outside - self.resting[column]), 75))

    def floor(self, column: int, window: ActionWindow, least: float) -> float:
        """How far from rest a deliberate movement on one measure must go: `least`, or
        SWAY_FACTOR times the person's natural excursion outside the window if that is more."""
        return max(least, SWAY_FACTOR * self.sway(column, window))

    def excursion(
        self,
        column: int,
        window: ActionWindow,
        *,
        span: float,
        reach: float,
        signed: int = 0,
        late: float = 0.0,
        open_end: bool = False,
    ) -> bool:
        """A deliberate movement on one measure inside the window: it sweeps at least `span`,
        goes at least `reach` (and SWAY_FACTOR times the natural sway) away from rest, and
        comes back towards rest after its farthest point. `signed` +1 counts only movements
        above rest (an opening mouth), 0 either way. Its farthest point may come `late`
        seconds after the window (the sway is still measured outside the window itself). With
        `open_end`, a movement whose return
        the recording stopped too early to show (less than RETURN_GRACE after its farthest
        point) counts without it."""
        mask = self._mask(window, late)
        values = self.features[mask, column]
        if len(values) == 0 or np.ptp(values) < span:
            return False
        away = values - self.resting[column]
        away = away * signed if signed else np.abs(away)
        peak = int(np.argmax(away))
        if away[peak] < self.floor(column, window, reach):
            return False
        peak_t = self.times[mask][peak]
        if peak_t > window.end_s:
            # a late reaction begins in its window: the next window's own movement does not
            # count for this one
            inside = away[self.times[mask] <= window.end_s]
            if not len(inside) or float(inside.max()) < LATE_START * away[peak]:
                return False
        later = (self.times > peak_t) & (self.times <= window.end_s + late + RETURN_GRACE)
        after = self.features[later, column] - self.resting[column]
        after = after * signed if signed else np.abs(after)
        if len(after) and float(after.min()) <= RETURN * away[peak]:
            return True
        return open_end and float(self.times[-1]) - peak_t < RETURN_GRACE


def blinked(session: Session, window: ActionWindow, late: float = 0.0) -> bool:
    """The eyes closed to BLINK_RATIO of their resting opening, inside the window, for at most
    BLINK_LONGEST seconds, and were open (REOPEN of rest, median) in the BLINK_CONTEXT seconds
    before and after: eyes narrowed by a smile or a squint stay narrowed longer."""
    resting = session.resting[0]
    if resting <= 0:
        return False
    times, eyes = session.eye_times, session.eyes
    closed = eyes <= BLINK_RATIO * resting
    for first, last in _runs(closed):
        start, end = times[first], times[last]
        if end < window.start_s or start > window.end_s + late or end - start > BLINK_LONGEST:
            continue
        if _head_turned_around(session, start, end, window):
            continue
        before = eyes[(times >= start - BLINK_CONTEXT) & (times < start)]
        after = eyes[(times > end) & (times <= end + BLINK_CONTEXT)]
        if all(len(side) == 0 or np.median(side) >= REOPEN * resting for side in (before, after)):
            return True
    return False


def _head_turned_around(session: Session, start: float, end: float, window: ActionWindow) -> bool:
    """Whether the head was turned or tipped as far as an asked shake or nod must reach (and
    beyond the person's own sway, as for an asked turn: a poorly fitted face's pose jitters by
    several degrees), at a sample in the AROUND seconds before `start` or after `end`: eyes
    looking down with a nod, or foreshortened by a turn, narrow like a blink without one. Not at
    the samples in between: closing lids pull the eye corners the pose is fitted to (a held-out
    blink read 6.5 degrees of pitch at its two closed samples, with the head still around)."""
    times = session.times
    near = ((times >= start - AROUND) & (times < start)) | ((times > end) & (times <= end + AROUND))
    pose = np.abs(session.features[near][:, 2:4] - session.resting[2:4])
    floors = (session.floor(2, window, SHAKE_REACH), session.floor(3, window, NOD_REACH))
    return bool(np.any((pose >= floors).any(axis=1)))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of consecutive True values."""
    runs, start = [], None
    for index, flag in enumerate(flags):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index - 1))
            start = None
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def mouth_opened(
    session: Session,
    window: ActionWindow,
    *,
    rise: float,
    least: float,
    least_unwidened: float | None = None,
    late: float = 0.0,
    open_end: bool = False,
) -> bool:
    """The lips part `rise` beyond their resting gap (and beyond the person's own movement, a
    talker's), to at least `least` (or `least_unwidened` when the mouth did not widen at its
    widest opening: not a smile), and close again: a mouth held open all along is its rest."""
    frames = session.inside(window, late)
    if len(frames) == 0:
        return False
    peak = int(np.argmax(frames[:, 1]))
    gap, width = float(frames[peak, 1]), float(frames[peak, 4])
    unwidened = width <= session.resting[4] * (1 + SMILE_WIDENING)
    if gap < least and not (least_unwidened is not None and gap >= least_unwidened and unwidened):
        return False
    return session.excursion(
        1, window, span=rise, reach=rise, signed=1, late=late, open_end=open_end
    )


def head_turned(
    session: Session,
    window: ActionWindow,
    *,
    span: float,
    reach: float,
    axis: int,
    late: float = 0.0,
    open_end: bool = False,
) -> bool:
    """A turn about `axis` (2 yaw, 3 pitch) away from the resting pose and back, larger than
    the person's natural sway, and at its farthest point farther from rest than the head is
    about the other axis: a turned head also reads as a little pitch through the mean face's
    imperfect fit, and a nod as a little yaw. Judged at that point, not over the window: the
    previous window's shake still coming back at the start of a late nod is not the nod's."""
    frames = session.inside(window, late)
    if len(frames) == 0:
        return False
    away = np.abs(frames[:, [axis, 5 - axis]] - session.resting[[axis, 5 - axis]])
    peak = int(np.argmax(away[:, 0]))
    return bool(away[peak, 0] > away[peak, 1]) and session.excursion(
        axis, window, span=span, reach=reach, late=late, open_end=open_end
    )


def performed(
    action: LivenessAction, session: Session, window: ActionWindow, *, asked: bool
) -> bool:
    """Whether `action` happened in the window; with stricter thresholds when not `asked`.
    An asked action is looked for until LATE seconds after the window, and may end with the
    recording (`open_end`)."""
    late = LATE if asked else 0.0
    if action == LivenessAction.BLINK:
        return blinked(session, window, late)
    if action == LivenessAction.OPEN_MOUTH:
        if asked:
            return mouth_opened(
                session,
                window,
                rise=MOUTH_RISE,
                least=MOUTH_MIN,
                least_unwidened=MOUTH_MIN_UNWIDENED,
                late=late,
                open_end=True,
            )
        return mouth_opened(session, window, rise=EXTRA_MOUTH_RISE, least=EXTRA_MOUTH_MIN)
    if action == LivenessAction.SHAKE_HEAD:
        span, reach = (
            (SHAKE_SPAN, SHAKE_REACH) if asked else (EXTRA_SHAKE_SPAN, EXTRA_SHAKE_SPAN / 2)
        )
        return head_turned(
            session, window, span=span, reach=reach, axis=2, late=late, open_end=asked
        )
    span, reach = (NOD_SPAN, NOD_REACH) if asked else (EXTRA_NOD_SPAN, EXTRA_NOD_SPAN / 2)
    return head_turned(session, window, span=span, reach=reach, axis=3, late=late, open_end=asked)


def measured(action: LivenessAction, session: Session, window: ActionWindow) -> str:
    """What the asked action's measure did in its window (and LATE after it), against what an
    asked action needs: for an engineer reading why a challenge was refused."""
    frames = session.inside(window, LATE)
    if len(frames) == 0:
        return "no samples"
    rest = session.resting
    if action == LivenessAction.BLINK:
        if rest[0] <= 0:
            return "no eye opening at rest"
        near = (session.eye_times >= window.start_s) & (session.eye_times <= window.end_s + LATE)
        deepest = int(np.argmin(np.where(near, session.eyes, np.inf)))
        runs = _runs(session.eyes <= BLINK_RATIO * rest[0])
        first, last = next((r for r in runs if r[0] <= deepest <= r[1]), (deepest, deepest))
        turned = _head_turned_around(
            session, session.eye_times[first], session.eye_times[last], window
        )
        return (
            f"eyes closed to {session.eyes[deepest] / rest[0]:.2f} of rest "
            f"(at most {BLINK_RATIO}, {int(near.sum())} frames)"
            + (", the head turned or tipped around it" if turned else "")
        )
    if action == LivenessAction.OPEN_MOUTH:
        peak = int(np.argmax(frames[:, 1]))
        floor = session.floor(1, window, MOUTH_RISE)
        widening = frames[peak, 4] / rest[4] - 1 if rest[4] else 0.0
        return (
            f"lips parted {frames[peak, 1]:.2f} ({frames[peak, 1] - rest[1]:+.2f} over rest, "
            f"needs {floor:.2f}), mouth {widening:+.0%} wide"
        )
    axis = 2 if action == LivenessAction.SHAKE_HEAD else 3
    span, reach = (SHAKE_SPAN, SHAKE_REACH) if axis == 2 else (NOD_SPAN, NOD_REACH)
    away = float(np.abs(frames[:, axis] - rest[axis]).max())
    floor = session.floor(axis, window, reach)
    return (
        f"{FEATURES[axis]} {away:.1f} deg from rest (needs {floor:.1f}), "
        f"swept {np.ptp(frames[:, axis]):.1f} (needs {span:g}; {FEATURES[5 - axis]} swept "
        f"{np.ptp(frames[:, 5 - axis]):.1f})"
    )


@dataclass(frozen=True)
class WindowVerdict:
    window: ActionWindow
    samples: int
    seen: bool
    others: list[LivenessAction]  # deliberate actions seen in this window that were not asked
    measured: str = ""  # the asked action's measure, when it was not seen

    @property
    def passed(self) -> bool:
        return self.seen and not self.others

    def describe(self) -> str:
        what = self.window.action.value
        at = f"{self.window.start_s:g}-{self.window.end_s:g}s"
        if self.samples < MIN_WINDOW_SAMPLES:
            return f"{what} ({at}): face not visible"
        if not self.seen:
            return f"{what} ({at}): not performed" + (f", {self.measured}" if self.measured else "")
        if self.others:
            return f"{what} ({at}): also {', '.join(a.value for a in self.others)}"
        return f"{what} ({at}): ok"


def blink_intervals(windows: Sequence[ActionWindow]) -> list[tuple[float, float]]:
    """Where the eyes are watched frame by frame, not only at the samples (`vision.video`): a
    blink's deepest point lasts 50-100 ms and may fall between two samples a tenth of a second
    apart."""
    return [(w.start_s, w.end_s + LATE) for w in windows if w.action == LivenessAction.BLINK]


def check_challenge(
    samples: Sequence[LandmarkSample],
    windows: Sequence[ActionWindow],
    extra: Sequence[LandmarkSample] = (),
) -> list[WindowVerdict]:
    """Per challenge window, in challenge order: its action seen there, and nothing else.
    `extra` are landmarks of frames taken between the samples in `blink_intervals`: they
    count for the eyes only."""
    session = Session.of(samples, extra)
    verdicts = []
    previous: LivenessAction | None = None
    for window in windows:
        frames = session.inside(window)
        if len(frames) < MIN_WINDOW_SAMPLES or len(samples) < 2 * MIN_WINDOW_SAMPLES:
            verdicts.append(WindowVerdict(window, len(frames), False, []))
            previous = window.action
            continue
        # The previous window's action still under way at this window's start runs on for up
        # to SPILL seconds without counting here, and so does what it does to the other
        # measures: a head turning back to rest reads as a pitch swing for a few frames on a
        # face the mean 3D face fits poorly (development clapton-1, a shake's return read as
        # a 20-degree nod).
        spilling = previous is not None and _under_way(session, previous, window.start_s)
        after_spill = window.model_copy(update={"start_s": window.start_s + SPILL})
        others = [
            action
            for action in DELIBERATE
            if action != window.action
            and performed(action, session, after_spill if spilling else window, asked=False)
        ]
        previous = window.action
        seen = performed(window.action, session, window, asked=True)
        why = "" if seen else measured(window.action, session, window)
        verdicts.append(WindowVerdict(window, len(frames), seen, others, why))
    return verdicts


_MEASURE = {  # column, an asked action's reach from rest, sign
    LivenessAction.OPEN_MOUTH: (1, MOUTH_RISE, 1),
    LivenessAction.SHAKE_HEAD: (2, SHAKE_REACH, 0),
    LivenessAction.NOD: (3, NOD_REACH, 0),
}


def _under_way(session: Session, action: LivenessAction, at: float) -> bool:
    """Whether `action` is still half its reach away from rest around `at` (0.3 s before to
    0.1 s after): the previous window's action running on, not a new one."""
    if action not in _MEASURE:
        return False
    column, reach, signed = _MEASURE[action]
    near = (session.times >= at - 0.3) & (session.times <= at + 0.1)
    away = session.features[near, column] - session.resting[column]
    away = away * signed if signed else np.abs(away)
    return bool(len(away)) and float(away.max()) >= reach / 2


def actions_seen(
    samples: Sequence[LandmarkSample], windows: Sequence[ActionWindow]
) -> list[LivenessAction]:
    """The challenged actions, in challenge order, that were performed inside their window."""
    return [v.window.action for v in check_challenge(samples, windows) if v.seen]
