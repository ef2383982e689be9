"""The synthetic debtor model (仿真债务人模型): hidden traits, call outcomes, payments. Pure.

Every debtor has hidden traits (:func:`debtor_traits`): ability and willingness to pay,
reachability of their own mobile by hour, a dead number, how often named third parties
answer, promise keeping, self-cure, complaint propensity and response to treatment.
Collectors have a skill (:func:`collector_skill`) and a specialty per bucket on top of it
(:func:`collector_specialty`: the collector × segment interaction). Repayment is a
self-exciting process in the spirit of Chehrazi, Glynn & Weber (2019): a daily intensity
``self_cure + excitation``; a right-party contact adds a jump (response × willingness ×
skill, saturating), a payment adds a jump, and the excitation decays day by day
(:func:`excite`).

**Common random numbers.** Every draw is a counter-based hash of
``(seed, debtor id, day, purpose, k)`` (:func:`uniforms`; SplitMix64's finaliser applied
in a chain), not a draw from one shared generator. A debtor's traits, their answer to
the k-th call of a day and their payment decision on a day are the same whatever
happened to other debtors and whatever policy chose to call them, so two policies run on
the same seed differ only by what the policies did (``tests/simulate``).

Money is int fen; every payment is at most what the case owes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from cuishou.simulate.config import LogitNormal, LogNormalRate, ModelConfig

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
B = npt.NDArray[np.bool_]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
#: ``day`` of draws that do not depend on the day (traits)
TIMELESS = 0

# ------------------------------------------------------------------ random streams


def _mix_scalar(x: int) -> int:
    x &= _MASK
    x ^= x >> 30
    x = (x * _M1) & _MASK
    x ^= x >> 27
    x = (x * _M2) & _MASK
    return x ^ (x >> 31)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(_M1)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(_M2)
    return x ^ (x >> np.uint64(31))


def purpose_code(purpose: str) -> int:
    """A stable 64-bit code of a purpose name (``"call"``, ``"trait:ability"`` …)."""
    return int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=8).digest(), "little")


def day_code(day: date | int) -> int:
    return day if isinstance(day, int) else day.toordinal()


def uniform(seed: int, debtor: int, day: date | int, purpose: str, k: int = 0) -> float:
    """One uniform in (0, 1) of the stream ``(seed, debtor, day, purpose)``, draw ``k``.

    The scalar twin of :func:`uniforms` (``tests/simulate`` proves they agree)."""
    x = _mix_scalar((seed * _GOLDEN) & _MASK)
    x = _mix_scalar(x ^ ((debtor * _GOLDEN) & _MASK))
    x = _mix_scalar(x ^ ((day_code(day) * _M1) & _MASK))
    x = _mix_scalar(x ^ purpose_code(purpose))
    x = _mix_scalar(x + ((k * _GOLDEN) & _MASK))
    return ((x >> 11) + 0.5) / float(1 << 53)


def uniforms(
    seed: int,
    debtors: npt.ArrayLike,
    day: date | int,
    purpose: str,
    k: npt.ArrayLike = 0,
) -> F:
    """Uniforms in (0, 1), one per debtor: draw ``k`` of each debtor's stream
    ``(seed, debtor, day, purpose)``. Independent of how many other debtors are asked."""
    ids = np.asarray(debtors, dtype=np.int64).astype(np.uint64)
    ks = np.broadcast_to(np.asarray(k, dtype=np.int64), ids.shape).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = np.full(ids.shape, _mix_scalar((seed * _GOLDEN) & _MASK), dtype=np.uint64)
        x = _mix(x ^ (ids * np.uint64(_GOLDEN)))
        x = _mix(x ^ np.uint64((day_code(day) * _M1) & _MASK))
        x = _mix(x ^ np.uint64(purpose_code(purpose)))
        x = _mix(x + ks * np.uint64(_GOLDEN))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def normals(seed: int, debtors: npt.ArrayLike, day: date | int, purpose: str) -> F:
    """Standard normal draws (Box–Muller on draws 0 and 1 of the stream)."""
    u1 = uniforms(seed, debtors, day, purpose, 0)
    u2 = uniforms(seed, debtors, day, purpose, 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _sigmoid(x: F) -> F:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _logit_normal(spec: LogitNormal, z: F, shift: F | float = 0.0) -> F:
    return _sigmoid(_logit(spec.mean) + spec.sd * z + shift)


def _log_normal(spec: LogNormalRate, z: F) -> F:
    return spec.mean * np.exp(spec.sd * z - spec.sd**2 / 2.0)


# -------------------------------------------------------------------------- traits


@dataclass(frozen=True, slots=True)
class Traits:
    """Hidden traits of debtors, aligned arrays (one entry per debtor)."""

    debtor_id: I
    ability: F
    willingness: F
    dead_mobile: B
    dead_invalid: B  # a dead mobile is 空号 (else switched off)
    answer: F
    best_hour: F
    third_party_answer: F
    promise_keeping: F
    self_cure: F
    complaint: F
    response: F

    def take(self, index: I) -> Traits:
        return Traits(**{name: getattr(self, name)[index] for name in self.__slots__})


TRAIT_NAMES = Traits.__slots__


def debtor_traits(config: ModelConfig, seed: int, debtor_ids: I, bucket_rank: I) -> Traits:
    """The hidden traits of each debtor; ``bucket_rank`` is the bucket at placement
    (M1 = 1 … M7+ = 7), which lowers ability and raises the chance of a dead mobile."""
    t = config.traits
    ids = np.asarray(debtor_ids, dtype=np.int64)
    rank = np.asarray(bucket_rank, dtype=np.float64)

    def z(name: str) -> F:
        return normals(seed, ids, TIMELESS, f"trait:{name}")

    def u(name: str) -> F:
        return uniforms(seed, ids, TIMELESS, f"trait:{name}")

    z_ability = z("ability")
    ability = _logit_normal(t.ability, z_ability, t.ability.bucket_slope * (rank - 1.0))
    rho = t.willingness.rho
    z_will = rho * z_ability + np.sqrt(1.0 - rho**2) * z("willingness")
    willingness = _logit_normal(t.willingness, z_will)
    dead_share = np.clip(t.dead_mobile.share + t.dead_mobile.per_bucket * (rank - 1.0), 0, 1)
    dead = u("dead_mobile") < dead_share
    keeping = _logit_normal(
        t.promise_keeping,
        z("promise_keeping"),
        t.promise_keeping.willingness_weight * (willingness - t.willingness.mean),
    )
    hour = t.best_hour
    return Traits(
        debtor_id=ids,
        ability=ability,
        willingness=willingness,
        dead_mobile=dead,
        dead_invalid=u("dead_invalid") < t.dead_mobile.invalid_share,
        answer=_logit_normal(t.answer, z("answer")),
        best_hour=hour.low + u("best_hour") * (hour.high - hour.low),
        third_party_answer=_logit_normal(t.third_party_answer, z("third_party_answer")),
        promise_keeping=keeping,
        self_cure=_log_normal(t.self_cure, z("self_cure")) * ability,
        complaint=np.clip(_log_normal(t.complaint, z("complaint")), 0.0, 1.0),
        response=_log_normal(t.response, z("response")) * willingness,
    )


def collector_skill(config: ModelConfig, seed: int, collector_numbers: I) -> F:
    """Each collector's skill (a multiplier around 1), by collector number."""
    s = config.collectors.skill
    z = normals(seed, collector_numbers, TIMELESS, "collector:skill")
    return np.clip(s.mean + s.sd * z, s.low, s.high)


def collector_specialty(
    config: ModelConfig, seed: int, collector_numbers: I, buckets: Sequence[str]
) -> F:
    """Each collector's specialty (专长) per bucket, ``[collector, bucket]``: a multiplier of
    their skill on cases of that bucket, ``exp(sd · z − sd²/2)`` clipped (mean about 1).

    The collector × segment interaction of the hidden truth: a collector good at early
    buckets may be average at late ones. Each (collector, bucket) has a stream of its own
    (``collector:specialty:<bucket>``), so adding a bucket or a collector changes no other
    draw, and with ``sd`` 0 every entry is 1."""
    s = config.collectors.specialty
    numbers = np.asarray(collector_numbers, dtype=np.int64)
    out = np.ones((numbers.shape[0], len(buckets)))
    if s.sd == 0:
        return out
    for j, bucket in enumerate(buckets):
        z = normals(seed, numbers, TIMELESS, f"collector:specialty:{bucket}")
        out[:, j] = np.clip(np.exp(s.sd * z - s.sd**2 / 2.0), s.low, s.high)
    return out


# --------------------------------------------------------------------------- calls

#: outcome codes (``contact.rules.OUTCOMES``) the model produces
NO_ANSWER, REJECTED, POWERED_OFF, INVALID = "no_answer", "rejected", "powered_off", "invalid_number"
DEBTOR, THIRD_PARTY = "connected_debtor", "connected_third_party"
PROMISE, REFUSED, COMPLAINT = "promise", "refused", "complaint"
RIGHT_PARTY = frozenset({DEBTOR, PROMISE, REFUSED, COMPLAINT, "negotiating"})


def answer_chance(config: ModelConfig, traits: Traits, hour: F) -> F:
    """The chance a call to the debtor's own live mobile at local ``hour`` is answered."""
    spec = config.traits.best_hour
    shape = np.exp(-((hour - traits.best_hour) ** 2) / (2.0 * spec.width**2))
    return traits.answer * (spec.floor + (1.0 - spec.floor) * shape)


def promise_chance(config: ModelConfig, traits: Traits, skill: F) -> F:
    """P(promise | right-party contact)."""
    c = config.calls
    return np.minimum(c.max_promise * traits.willingness**c.power * skill, c.cap)


@dataclass(frozen=True, slots=True)
class CallOutcomes:
    """What happened on each call (aligned with the calls asked about)."""

    outcome: npt.NDArray[np.str_]
    duration: I
    promise_fen: I  # 0 unless the outcome is a promise
    promise_days: I  # days ahead of the call's day


def call_outcomes(
    config: ModelConfig,
    seed: int,
    day: date,
    traits: Traits,
    *,
    attempt: I,
    third_party: B,
    hour: F,
    skill: F,
    owed_fen: I,
    may_promise: B,
) -> CallOutcomes:
    """Outcomes of calls on ``day``. ``traits`` is aligned with the calls (one row per
    call, the called debtor's traits); ``attempt`` numbers a debtor's calls of the day (the
    k of its stream), so a debtor's k-th call is decided by the same draws whoever makes it.
    ``may_promise`` is false where an open promise stands (the debtor points to it)."""
    c = config.calls
    ids = traits.debtor_id
    draw = attempt * 8

    def u(j: int) -> F:
        return uniforms(seed, ids, day, "call", draw + j)

    u_answer, u_what, u_fail, u_amount = u(0), u(1), u(2), u(3)
    u_share, u_days, u_seconds, u_complaint = u(4), u(5), u(6), u(7)
    live = ~traits.dead_mobile
    answered_own = live & (u_answer < answer_chance(config, traits, hour))
    answered_third = u_answer < traits.third_party_answer
    answered = np.where(third_party, answered_third, answered_own)

    p_promise = np.where(may_promise & (owed_fen > 0), promise_chance(config, traits, skill), 0.0)
    p_refuse = (1.0 - p_promise) * c.refusal * (1.0 - traits.willingness)
    rpc = np.where(
        u_complaint < traits.complaint,
        COMPLAINT,
        np.where(
            u_what < p_promise,
            PROMISE,
            np.where(u_what < p_promise + p_refuse, REFUSED, DEBTOR),
        ),
    )
    mix = c.failed_mix
    total = mix.no_answer + mix.rejected + mix.powered_off
    failed_live = np.where(
        u_fail < mix.no_answer / total,
        NO_ANSWER,
        np.where(u_fail < (mix.no_answer + mix.rejected) / total, REJECTED, POWERED_OFF),
    )
    dead = np.where(traits.dead_invalid, INVALID, POWERED_OFF)
    failed = np.where(third_party, NO_ANSWER, np.where(live, failed_live, dead))
    outcome = np.where(answered, np.where(third_party, THIRD_PARTY, rpc), failed)

    is_promise = outcome == PROMISE
    share = c.promise_share.low + u_share * (c.promise_share.high - c.promise_share.low)
    partial = np.maximum((owed_fen * share // 100) * 100, 100)
    amount = np.where(u_amount < c.promise_full, owed_fen, np.minimum(partial, owed_fen))
    seconds = np.where(
        answered,
        c.connected_seconds.low + u_seconds * (c.connected_seconds.high - c.connected_seconds.low),
        c.failed_seconds.low + u_seconds * (c.failed_seconds.high - c.failed_seconds.low),
    )
    return CallOutcomes(
        outcome=outcome.astype(np.str_),
        duration=seconds.astype(np.int64),
        promise_fen=np.where(is_promise, amount, 0).astype(np.int64),
        promise_days=np.where(is_promise, 1 + (u_days * c.promise_days).astype(np.int64), 0),
    )


# ------------------------------------------------------------ the other channels

#: what a delivered message is recorded as, read or not: the system sees it sent, never
#: whether the debtor took it in, so it is not a right-party contact
DELIVERED = "message_sent"
#: channels that go to the debtor's mobile (a 空号 bounces)
MOBILE_CHANNELS = frozenset({"ivr", "sms", "wechat"})


@dataclass(frozen=True, slots=True)
class ChannelOutcomes:
    """What each planned non-call contact did (aligned with the contacts asked about)."""

    outcome: npt.NDArray[np.str_]
    reached: B  # the debtor took it in (read, answered, met)
    jump: F


def channel_outcomes(
    config: ModelConfig, seed: int, day: date, traits: Traits, *, action: str, hour: F
) -> ChannelOutcomes:
    """Outcomes of one day's ``action`` contacts (``ivr``, ``sms``, ``email``, ``wechat``,
    ``letter`` or ``visit``), one per debtor of ``traits``, each on its own stream
    ``(seed, debtor, day, action)`` so they line up across policies as calls do.

    An IVR (robot) call is answered as a call is (the hour-shaped chance on a live mobile)
    and fails as a call does; a message to a mobile that is 空号 bounces (``invalid_number``)
    and is otherwise delivered (recorded ``message_sent``, read or not: the store cannot see
    the reading, and a message is no right-party contact), read with ``reach``; a letter or
    e-mail is delivered (``message_sent``) and read with ``reach``; a
    visit meets the debtor with ``reach`` (else ``no_answer``: nobody at home). A reached
    debtor complains with ``complaint`` × their propensity (recorded ``complaint``) and
    otherwise gets ``jump`` × a right-party call's jump (:func:`contact_jump`, skill 1).
    """
    spec = config.channels.of(action)
    ids = traits.debtor_id

    def u(j: int) -> F:
        return uniforms(seed, ids, day, action, j)

    u_reach, u_fail, u_complaint = u(0), u(1), u(2)
    live = ~traits.dead_mobile
    if action == "ivr":
        reached = live & (u_reach < answer_chance(config, traits, hour))
        mix = config.calls.failed_mix
        total = mix.no_answer + mix.rejected + mix.powered_off
        failed_live = np.where(
            u_fail < mix.no_answer / total,
            NO_ANSWER,
            np.where(u_fail < (mix.no_answer + mix.rejected) / total, REJECTED, POWERED_OFF),
        )
        dead = np.where(traits.dead_invalid, INVALID, POWERED_OFF)
        failed = np.where(live, failed_live, dead)
    elif action in MOBILE_CHANNELS:
        bounced = traits.dead_mobile & traits.dead_invalid
        reached = ~traits.dead_mobile & (u_reach < spec.reach)
        failed = np.where(bounced, INVALID, DELIVERED)
    elif action == "visit":
        reached = u_reach < spec.reach
        failed = np.full(ids.shape, NO_ANSWER)
    else:  # letter, email: sent and delivered, read or not
        reached = u_reach < spec.reach
        failed = np.full(ids.shape, DELIVERED)
    complained = reached & (u_complaint < np.clip(traits.complaint * spec.complaint, 0.0, 1.0))
    # a robot call answered and a visit that met the debtor are right-party contacts; a
    # message read is still only a message sent, as far as the store can know
    met = DEBTOR if action in ("ivr", "visit") else DELIVERED
    outcome = np.where(complained, COMPLAINT, np.where(reached, met, failed))
    full = spec.jump * contact_jump(traits, np.ones(ids.shape))
    jump = np.where(reached & ~complained, full, 0.0)
    return ChannelOutcomes(outcome=outcome.astype(np.str_), reached=reached, jump=jump)


# ------------------------------------------------------------------------ payments


def excite(config: ModelConfig, excitation: F, *, jumps: F, paid: B) -> F:
    """Tomorrow's excitation: today's decayed, plus the day's contact jumps (saturating at
    ``dynamics.cap``) and a payment's jump."""
    d = config.dynamics
    room = np.clip(1.0 - excitation / d.cap, 0.0, 1.0)
    return excitation * d.decay + jumps * room + d.payment_jump * paid


def contact_jump(traits: Traits, skill: F) -> F:
    """The jump one right-party contact adds: response (already × willingness) × skill."""
    return traits.response * skill


def payments_of_day(
    config: ModelConfig,
    seed: int,
    day: date,
    traits: Traits,
    *,
    owed_fen: I,
    excitation: F,
    promise_fen: I,
) -> I:
    """What each debtor pays on ``day`` (fen, 0 for nothing; never above ``owed_fen``).

    ``promise_fen`` is an open promise falling due today (0 if none): it is kept in full
    with the debtor's promise keeping, partly kept with ``partial_keeping`` of the rest,
    else broken. Without one, a payment comes with chance ``1 - exp(-(self_cure +
    excitation))``: everything owed with chance ``full × ability²``, else a share.
    """
    p = config.payments
    ids = traits.debtor_id

    def u(j: int) -> F:
        return uniforms(seed, ids, day, "pay", j)

    u_keep, u_partial, u_pay, u_full, u_share = u(0), u(1), u(2), u(3), u(4)
    owed = np.maximum(np.asarray(owed_fen, dtype=np.int64), 0)
    promised = np.minimum(np.asarray(promise_fen, dtype=np.int64), owed)
    kept = u_keep < traits.promise_keeping
    partly = ~kept & (
        u_keep
        < traits.promise_keeping + config.traits.partial_keeping * (1.0 - traits.promise_keeping)
    )
    part = np.maximum((promised * (0.3 + 0.5 * u_partial)).astype(np.int64) // 100 * 100, 100)
    on_promise = np.where(kept, promised, np.where(partly, np.minimum(part, promised), 0))

    intensity = traits.self_cure + excitation
    pays = u_pay < 1.0 - np.exp(-intensity)
    full = u_full < p.full * traits.ability**2
    share = (p.share.low + u_share * (p.share.high - p.share.low)) * traits.ability
    some = np.maximum((owed * share).astype(np.int64) // 100 * 100, 100)
    spontaneous = np.where(pays, np.where(full, owed, np.minimum(some, owed)), 0)
    paid = np.where(promised > 0, on_promise, spontaneous)
    return np.minimum(paid, owed).astype(np.int64)


# --------------------------------------------------------------------- ground truth


@dataclass(frozen=True, slots=True)
class Expected:
    no_action_fen: F
    full_treatment_fen: F


def expected_payments(
    config: ModelConfig, seed: int, traits: Traits, owed_fen: I, *, first: date, days: int
) -> Expected:
    """Ground truth: each debtor's expected payment over ``days`` days from ``first``
    under "no action" and under "full treatment" (their own mobile called daily at their
    best hour by a collector of skill 1), by ``truth.replications`` replications of the
    same model on streams of their own (``truth:…``), never the live ones."""
    reps = config.truth.replications
    n = traits.debtor_id.shape[0]
    result: dict[str, F] = {}
    for arm in ("none", "full"):
        total = np.zeros(n)
        for r in range(reps):
            owed = np.asarray(owed_fen, dtype=np.int64).copy()
            excitation = np.zeros(n)
            promise_left = np.zeros(n, dtype=np.int64)
            promise_due = np.full(n, -1, dtype=np.int64)
            paid_total = np.zeros(n, dtype=np.int64)
            stream = seed * 1_000_003 + r * 2 + (arm == "full")
            for offset in range(days):
                day = first.toordinal() + offset
                jumps = np.zeros(n)
                if arm == "full":
                    skill = np.ones(n)
                    got = call_outcomes(
                        config, stream, date.fromordinal(day), traits,
                        attempt=np.zeros(n, dtype=np.int64), third_party=np.zeros(n, dtype=bool),
                        hour=traits.best_hour, skill=skill, owed_fen=owed,
                        may_promise=promise_due < 0,
                    )  # fmt: skip
                    reached = np.isin(got.outcome, list(RIGHT_PARTY))
                    jumps = np.where(reached, contact_jump(traits, skill), 0.0)
                    new = got.promise_fen > 0
                    promise_left = np.where(new, got.promise_fen, promise_left)
                    promise_due = np.where(new, offset + got.promise_days, promise_due)
                due_today = np.where(promise_due == offset, promise_left, 0)
                paid = payments_of_day(
                    config, stream, date.fromordinal(day), traits,
                    owed_fen=owed, excitation=excitation, promise_fen=due_today,
                )  # fmt: skip
                promise_due = np.where(promise_due == offset, -1, promise_due)
                owed = owed - paid
                paid_total += paid
                excitation = excite(config, excitation, jumps=jumps, paid=paid > 0)
            total += paid_total
        result[arm] = total / reps
    return Expected(no_action_fen=result["none"], full_treatment_fen=result["full"])
