"""Pure rule: which case moves are decisions that leave for other departments (一件事联办).

Approving, refusing and stopping an allowance case are decisions on that case; a periodic
review's outcome ``adjusted`` is a decision on the case it reviewed (004: the amount
changes). A review that ends ``stopped`` stops the reviewed case, whose own move to
``stopped`` is the decision; ``continued`` changes nothing for anyone outside.
"""

from __future__ import annotations

PERIODIC_REVIEW = "periodic_review"
_OF_STATUS = {"approved": "approve", "refused": "refuse", "stopped": "stop"}


def decision_for(kind: str, to_status: str) -> str | None:
    """The decision (approve, refuse, stop, adjust) a move to ``to_status`` is, or None."""
    if kind == PERIODIC_REVIEW:
        return "adjust" if to_status == "adjusted" else None
    return _OF_STATUS.get(to_status)
