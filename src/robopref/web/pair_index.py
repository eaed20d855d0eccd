"""Assignment display id → pair id, per process: the O(1) half of the ownership check."""

from __future__ import annotations

from robopref.store import QueueItem, Store
from robopref.store.assigned import AssignedPair, assigned_pair, assigned_pair_ids
from robopref.web.signing import display_id

PAIR_KIND = "pair"
"""`display_id` kind of assignment ids."""


class PairIndex:
    """Maps the opaque assignment ids handed to annotators back to pair ids.

    An assignment id is an HMAC of the pair id, so it cannot be reversed; the index
    remembers each id it hands out (`assignment_id`) and, on a miss, learns the caller's
    assigned pairs with one query on the assignments' annotator index. Ownership is then
    one primary-key read of (pair, annotator), or none for the pair this process served
    the caller last (`remember_served`). Entries are never stale: pair ids and their
    display ids do not change, so the index only grows, by at most one entry per pair
    (and one served pair per annotator). Dict reads and writes are atomic under the GIL,
    so request threads share it unlocked.
    """

    def __init__(self, store: Store, secret: str) -> None:
        """An empty index over `store`, with assignment ids keyed by `secret`."""
        self._store = store
        self._secret = secret
        self._pair_of: dict[str, str] = {}
        self._shown_as: dict[str, str] = {}
        self._served: dict[str, AssignedPair] = {}

    def remember_served(self, annotator_id: str, item: QueueItem) -> None:
        """The pair GET /api/next just served `annotator_id`: its submit needs no read.

        What ownership returns of an assignment does not change once it exists (its
        pair, sides and batch; `completed` is not used by its callers), and the submit
        and the skip check the assignment in their own transaction, so an assignment
        removed meanwhile is refused there, as not the caller's.
        """
        if item.trajectory_a_id is None or item.batch_kind is None:
            return
        a = item.trajectory_a_id
        b = item.right_trajectory_id if item.left_trajectory_id == a else item.left_trajectory_id
        self._served[annotator_id] = AssignedPair(
            pair_id=item.pair_id, trajectory_a_id=a, trajectory_b_id=b,
            left_trajectory_id=item.left_trajectory_id, completed=False,
            batch_id=item.batch_id, batch_kind=item.batch_kind)

    def assignment_id(self, pair_id: str) -> str:
        """The opaque id of `pair_id`'s assignments (remembered for the way back)."""
        shown = self._shown_as.get(pair_id)
        if shown is None:
            shown = display_id(self._secret, PAIR_KIND, pair_id)
            self._pair_of[shown] = pair_id
            self._shown_as[pair_id] = shown
        return shown

    def pair_id(self, annotator_id: str, assignment_id: str) -> str | None:
        """The pair an assignment id stands for, learning the caller's pairs on a miss."""
        found = self._pair_of.get(assignment_id)
        if found is None:
            self._learn(annotator_id)
            found = self._pair_of.get(assignment_id)
        return found

    def owned(self, annotator_id: str, assignment_id: str) -> AssignedPair | None:
        """The caller's assignment named `assignment_id`, or None when it is not theirs."""
        pair_id = self.pair_id(annotator_id, assignment_id)
        if pair_id is None:
            return None
        served = self._served.get(annotator_id)
        if served is not None and served.pair_id == pair_id:
            return served
        return assigned_pair(self._store, pair_id, annotator_id)

    def _learn(self, annotator_id: str) -> None:
        """Index every pair assigned to the caller (HMACs only for pairs not known yet)."""
        for pair_id in assigned_pair_ids(self._store, annotator_id):
            if pair_id not in self._shown_as:
                self.assignment_id(pair_id)
