"""A recipient's sign-in block, as the village assistant sees and lifts it.

Wrong PINs for one phone number count against the account from every address (the
account-wide limit, which the recipient's own phone passes) and against each address (its
lock). When a recipient on a new phone is kept out, the assistant who enrolled them sees why
and lifts the block after checking who is asking; the lift is audited.
"""

from __future__ import annotations

from backend.audit import service as audit
from backend.auth import service as auth
from backend.auth import throttle
from backend.auth.rules import Caller
from backend.checkins import recipients


def view(caller: Caller, recipient_id: str) -> dict:
    recipients.require_staff(caller, recipients.ENROLLING_ROLES)
    recipient = recipients.get_visible_recipient(caller, recipient_id)
    return _state(recipient)


def lift(caller: Caller, recipient_id: str) -> None:
    recipients.require_staff(caller, recipients.ENROLLING_ROLES)
    recipient = recipients.get_visible_recipient(caller, recipient_id)
    before = _state(recipient)
    throttle.clear_account_limit(recipients.username_for(recipient.phone))
    auth.lift_locks(recipient.user_id)
    audit.record("checkin.sign_in_block_lifted", "checkin_recipient", recipient.id,
                 before=before, after={"is_blocked": False},
                 jurisdiction_code=recipient.jurisdiction_code)


def _state(recipient) -> dict:
    failed, retry_after = throttle.account_limit_state(recipients.username_for(recipient.phone))
    locked = auth.locked_clients(recipient.user_id)
    return {"is_blocked": retry_after is not None or locked > 0,
            "retry_after_seconds": retry_after, "failed_sign_ins": failed,
            "locked_addresses": locked}
