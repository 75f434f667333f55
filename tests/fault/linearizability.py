"""A linearizability checker for histories of per-key registers (Wing & Gong's search with
Lowe's memoization, as Porcupine does it), for the fault suite of issue 4.

An operation is a dict-like Op: key, kind ("write", "read", "cas"), the value written or read,
`expected` for cas, `ok` (for cas: whether the condition held; for reads: True), and the
invocation and completion times. An operation whose outcome is unknown (a timeout: it may or
may not have taken effect) has complete=None: it may take effect at any point after its
invocation, or never. Reads with unknown outcome tell nothing and are dropped.

Histories are checked key by key (linearizability is compositional), so the search stays
small. `check(history)` returns (True, None) or (False, explanation).
"""
from dataclasses import dataclass, field
from typing import Any, Optional

INF = float("inf")


@dataclass
class Op:
    key: Any
    kind: str                  # "write" | "read" | "cas"
    value: Any = None          # written value, value read, or cas new value
    invoke: float = 0.0
    complete: Optional[float] = None   # None: outcome unknown
    expected: Any = None       # cas: the value the condition required
    ok: bool = True            # cas: the condition held (the write happened)
    id: int = field(default=0)


def _step(state, op):
    """The register model: (legal, new_state) for applying `op` to `state`."""
    if op.kind == "write":
        return True, op.value
    if op.kind == "read":
        return op.value == state, state
    if op.kind == "cas":
        if op.ok:
            return state == op.expected, op.value
        return state != op.expected, state
    raise ValueError(f"unknown operation kind {op.kind}")


class _Entry:
    __slots__ = ("op", "is_call", "match", "prev", "next")

    def __init__(self, op, is_call):
        self.op, self.is_call = op, is_call
        self.match = self.prev = self.next = None


def _check_key(ops, initial):
    """Wing-Gong-Lowe search over one key's operations."""
    ops = [o for o in ops if not (o.kind == "read" and o.complete is None)]
    if not ops:
        return True, None
    # Call and return events in time order; at equal times calls come first (overlapping is
    # the conservative reading). An unknown outcome returns at +inf: it may take effect at
    # any point after its call, or never.
    timed = []
    for idx, o in enumerate(ops):
        call, ret = _Entry(idx, True), _Entry(idx, False)
        call.match, ret.match = ret, call
        timed.append((o.invoke, 0, idx, call))
        timed.append((o.complete if o.complete is not None else INF, 1, idx, ret))
    timed.sort(key=lambda t: t[:3])
    head = _Entry(None, False)
    last = head
    for *_, e in timed:
        last.next, e.prev = e, last
        last = e

    def lift(call):  # remove a call and its return from the list
        call.prev.next = call.next
        if call.next:
            call.next.prev = call.prev
        ret = call.match
        ret.prev.next = ret.next
        if ret.next:
            ret.next.prev = ret.prev

    def unlift(call):  # put them back (reverse order of lift)
        ret = call.match
        ret.prev.next = ret
        if ret.next:
            ret.next.prev = ret
        call.prev.next = call
        if call.next:
            call.next.prev = call

    state, linearized, stack, cache = initial, 0, [], set()
    entry = head.next
    while head.next is not None:
        if entry.is_call:
            op = ops[entry.op]
            legal, new_state = _step(state, op)
            key = (linearized | (1 << entry.op), new_state)
            if legal and key not in cache:
                cache.add(key)
                stack.append((entry, state))
                state, linearized = new_state, linearized | (1 << entry.op)
                lift(entry)
                entry = head.next
                continue
            entry = entry.next
            continue
        # A return whose operation is not linearized yet.
        if ops[entry.op].complete is None:
            # Only unknown-outcome operations (returning at +inf) are left: they never took
            # effect, which is a valid linearization.
            return True, None
        if not stack:
            return False, _explain(ops, initial)
        call, state = stack.pop()
        linearized &= ~(1 << call.op)
        unlift(call)
        entry = call.next
    return True, None


def _explain(ops, initial):
    lines = [f"no linearization for key {ops[0].key!r} (initial {initial!r}):"]
    for o in sorted(ops, key=lambda o: o.invoke):
        end = "?" if o.complete is None else f"{o.complete:g}"
        extra = f" expected={o.expected!r} ok={o.ok}" if o.kind == "cas" else ""
        lines.append(f"  [{o.invoke:g}, {end}] {o.kind} {o.value!r}{extra}")
    return "\n".join(lines)


def check(history, initial=None):
    """Checks a whole history; returns (True, None) or (False, explanation)."""
    by_key = {}
    for op in history:
        by_key.setdefault(op.key, []).append(op)
    for key, ops in by_key.items():
        if len(ops) > 60:
            raise ValueError(f"key {key!r} has {len(ops)} operations; keep per-key histories "
                             "under 60 (use more keys)")
        ok, why = _check_key(ops, initial)
        if not ok:
            return False, why
    return True, None
