"""Message statuses read from the receipt store, in the shape of a gateway's status call.

For gateways that report statuses only by calling back or through a queue (Bulletin Messenger,
Skycore), and for the others when their connection says ``receipts``, the status sensor and its
trigger read what the callback receiver and the pollers stored (see
:meth:`~airflow_provider_sms.hooks.base.SmsHook.status_source`). A message with no stored report
yet is ``pending``: the wait goes on until its receipt arrives (or the sensor's timeout).

A ref names a message by its id or by its batch and recipient. Stored events carry the gateway's
id of what they report on (a per-message id, or a per-request id shared by several handsets,
such as Bulletin's ``messageId`` or a BulkSMS EAPI batch id) and, where the gateway says, the
handset: so a ref with a recipient is matched on (id, handset) for each of its ids, and a ref
without one on the id alone. A batch named without its recipients cannot be followed from
receipts (nothing says how many handsets it had): that is refused with a validation error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus
from airflow_provider_sms.exceptions import Problem, SmsValidationError

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipts import StatusEvent
    from airflow_provider_sms.receipts.store import ReceiptStore

__all__ = ["NO_RECEIPT_YET", "stored_statuses"]

NO_RECEIPT_YET = "no receipt stored yet"


class Ref(Protocol):
    """A ``hooks.base.MessageRef``."""

    @property
    def batch_id(self) -> str | None: ...

    @property
    def message_id(self) -> str | None: ...

    @property
    def recipient(self) -> str | None: ...


def _digits(number: str | None) -> str:
    return "".join(c for c in number or "" if c.isdigit())


def stored_statuses(store: ReceiptStore, gateway: str, conn_id: str, refs: Sequence[Ref]) -> list[MessageStatus]:
    """The latest stored status of each ref, ``pending`` where none is stored yet; one per ref, in order.

    :raises SmsValidationError: a ref names a batch without its recipients.
    """
    loose = [r.batch_id for r in refs if r.message_id is None and r.recipient is None]
    if loose:
        raise SmsValidationError([Problem(
            "messages", f"{gateway} statuses come from delivery receipts, which report per handset: name the "
            "messages by the send's per-recipient results (xcom_results='per_recipient', the default up to 10,000 "
            "recipients) or by message ids, not by batch id alone", str(loose[0]))], gateway=gateway)
    ids = list(dict.fromkeys(i for r in refs for i in (r.message_id, r.batch_id) if i))
    events = store.recipient_statuses(gateway, conn_id, ids)
    by_handset: dict[tuple[str, str], StatusEvent] = {}
    by_id: dict[str, StatusEvent] = {}
    for (message_id, recipient), event in events.items():
        if recipient is None:
            by_id[message_id] = event
        else:
            by_handset[(message_id, _digits(recipient))] = event
    return [_status(ref, _find(ref, by_handset, by_id)) for ref in refs]


def _find(ref: Ref, by_handset: dict[tuple[str, str], StatusEvent],
          by_id: dict[str, StatusEvent]) -> StatusEvent | None:
    if ref.recipient is not None:
        handset = _digits(ref.recipient)
        for key in (ref.message_id, ref.batch_id):
            if key and (key, handset) in by_handset:
                return by_handset[(key, handset)]
    if ref.message_id:
        # A report that names no handset stands for the message id's only recipient.
        found = by_id.get(ref.message_id)
        if found is not None:
            return found
        if ref.recipient is None:
            mine = [e for (key, _), e in by_handset.items() if key == ref.message_id]
            if len(mine) == 1:
                return mine[0]
    return None


def _status(ref: Ref, event: StatusEvent | None) -> MessageStatus:
    if event is None:
        return MessageStatus(DeliveryStatus.PENDING, recipient=ref.recipient, message_id=ref.message_id,
                             batch_id=ref.batch_id, text=NO_RECEIPT_YET)
    return MessageStatus(event.state, recipient=ref.recipient or event.recipient,
                         message_id=ref.message_id or (None if ref.batch_id else event.message_id),
                         batch_id=ref.batch_id, code=event.gateway_code, text=event.detail)
