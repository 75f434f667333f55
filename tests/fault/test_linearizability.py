"""Tests of the linearizability checker itself (it must accept what is linearizable and
reject what is not, or the fault suite proves nothing)."""
import random

from linearizability import Op, check


def w(v, a, b, key="k"):
    return Op(key=key, kind="write", value=v, invoke=a, complete=b)


def r(v, a, b, key="k"):
    return Op(key=key, kind="read", value=v, invoke=a, complete=b)


def cas(expected, new, ok, a, b, key="k"):
    return Op(key=key, kind="cas", value=new, expected=expected, ok=ok, invoke=a, complete=b)


def test_sequential_history():
    assert check([w(1, 0, 1), r(1, 2, 3), w(2, 4, 5), r(2, 6, 7)])[0]


def test_stale_read_after_completed_write_is_rejected():
    ok, why = check([w(1, 0, 1), w(2, 2, 3), r(1, 4, 5)])
    assert not ok and "no linearization" in why


def test_concurrent_read_may_see_either_value():
    assert check([w(1, 0, 1), w(2, 2, 6), r(1, 3, 4)])[0]
    assert check([w(1, 0, 1), w(2, 2, 6), r(2, 3, 4)])[0]


def test_new_then_old_read_is_rejected():
    # r1 sees the new value and completes before r2 starts, which sees the old one.
    assert not check([w(1, 0, 1), w(2, 2, 10), r(2, 3, 4), r(1, 5, 6)])[0]


def test_read_of_never_written_value_is_rejected():
    assert not check([w(1, 0, 1), r(7, 2, 3)])[0]


def test_initial_value():
    assert check([r(None, 0, 1), w(1, 2, 3)])[0]
    assert check([r(0, 0, 1)], initial=0)[0]


def test_two_successful_cas_from_the_same_value_are_rejected():
    assert not check([w(0, 0, 1), cas(0, 1, True, 2, 3), cas(0, 2, True, 4, 5)])[0]
    assert check([w(0, 0, 1), cas(0, 1, True, 2, 5), cas(0, 2, False, 3, 4)])[0]


def test_failed_cas_means_the_value_differed():
    assert not check([w(0, 0, 1), cas(0, 1, False, 2, 3)])[0]
    assert check([w(5, 0, 1), cas(0, 1, False, 2, 3), r(5, 4, 5)])[0]


def test_unknown_write_may_apply_late_or_never():
    assert check([w(1, 0, 1), w(2, 2, None), r(1, 3, 4)])[0]       # never (or later)
    assert check([w(1, 0, 1), w(2, 2, None), r(2, 10, 11)])[0]     # late
    assert check([w(1, 0, 1), w(2, 2, None), r(2, 3, 4), r(2, 5, 6)])[0]


def test_unknown_write_cannot_apply_before_it_was_invoked():
    assert not check([w(1, 0, 1), r(2, 2, 3), w(2, 4, None)])[0]


def test_unknown_write_once_seen_stays():
    # After a read saw the unknown write's value, a later read cannot see the older value.
    assert not check([w(1, 0, 1), w(2, 2, None), r(2, 3, 4), r(1, 5, 6)])[0]


def test_keys_are_independent():
    assert check([w(1, 0, 1, "a"), w(2, 0, 1, "b"), r(2, 2, 3, "b"), r(1, 2, 3, "a")])[0]
    assert not check([w(1, 0, 1, "a"), w(2, 0, 1, "b"), r(2, 2, 3, "a")])[0]


def random_history(rng, n_ops=30, keys=("a", "b")):
    """A history produced by a real atomic register: each op takes effect at a random instant
    inside its [invoke, complete] interval, processed in order of those instants."""
    ops, state = [], {k: None for k in keys}
    effects = []
    for i in range(n_ops):
        a = rng.uniform(0, 100)
        b = a + rng.uniform(0.1, 20)
        effects.append((rng.uniform(a, b), a, b, rng.choice(keys), i))
    for t, a, b, key, i in sorted(effects):
        kind = rng.choice(["write", "read", "cas"])
        if kind == "write":
            state[key] = i
            ops.append(w(i, a, b, key))
        elif kind == "read":
            ops.append(r(state[key], a, b, key))
        else:
            expected = rng.choice([state[key], i - 1, None])
            held = state[key] == expected
            if held:
                state[key] = i
            ops.append(cas(expected, i, held, a, b, key))
    return ops


def test_histories_of_a_real_register_are_always_accepted():
    rng = random.Random(7)
    for _ in range(300):
        history = random_history(rng)
        ok, why = check(history)
        assert ok, why


def test_corrupted_histories_are_caught():
    rng = random.Random(11)
    caught = corrupted = 0
    for _ in range(300):
        history = random_history(rng)
        reads = [o for o in history if o.kind == "read" and o.value is not None]
        if not reads:
            continue
        victim = rng.choice(reads)
        victim.value = -1  # a value no one ever wrote: no linearization can explain it
        corrupted += 1
        caught += not check(history)[0]
    assert corrupted > 200 and caught == corrupted
