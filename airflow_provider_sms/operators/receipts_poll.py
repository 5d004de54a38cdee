"""Poll a gateway's queues, inbox or inbound report into the receipt store (:class:`SmsReceiptPollOperator`).

For deployments the gateway cannot call back (no public URL for the callback receiver). Schedule it
every minute or so; the reply watcher (:func:`airflow_provider_sms.assets.sms_reply_asset`) and the
status sensor read what it stores, exactly as if the callbacks had come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["SmsReceiptPollOperator"]

MAX_ITEMS = 100_000


class SmsReceiptPollOperator(BaseOperator):
    """Take statuses and replies from the gateway of ``sms_conn_id`` and store them, once each.

    What is polled (``Capability.RECEIPT_POLL``): Bulletin Messenger's status and reply queues;
    BulkSMS's inbox (``api=eapi``); NetMessenger's ``InboundMessages`` report. Skycore reports only by
    postback, and the BulkSMS JSON API by webhook: they need the callback receiver.

    Nothing is lost: each item (or page) is stored before the next is fetched from the gateway, and
    a source's position (inbox id, report window) is saved only after what it covers is stored, so a
    failed or killed task repeats work on its next run -- which the store's event ids make harmless
    -- and never skips it. Bulletin's queues hand an item out once, with no acknowledgement: an item
    fetched by a task killed before storing it is lost to polling (Messenger still shows it online);
    the window is one item long.

    Replies that are a stop word put the sender on the suppression list (see ``honour_opt_outs``).

    :param sms_conn_id: the gateway connection. Templated.
    :param max_items: the most items to take from each source in one run (at most 100,000).
    :return: ``{"gateway", "statuses", "replies", "new", "already_stored", "opted_out", "sources"}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id",)
    ui_color = "#e8f5e9"

    def __init__(self, *, sms_conn_id: str, max_items: int = 10_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 1 <= max_items <= MAX_ITEMS:
            raise ValueError(f"max_items must be between 1 and {MAX_ITEMS}, got {max_items!r}")
        self.sms_conn_id = sms_conn_id
        self.max_items = max_items

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.core.receipts import StatusEvent
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.hooks.capabilities import Capability
        from airflow_provider_sms.journal import JournalUnavailableError
        from airflow_provider_sms.receipts.cursors import PollCursors
        from airflow_provider_sms.receipts.store import ReceiptStore
        from airflow_provider_sms.receipts.suppression import SuppressionList, apply_opt_out

        counts = {"statuses": 0, "replies": 0, "new": 0, "already_stored": 0, "opted_out": 0}
        sources: dict[str, int] = {}
        with airflow_errors():
            hook = get_sms_hook(self.sms_conn_id)
            hook.require(Capability.RECEIPT_POLL, "its statuses and replies come by callback: see the receiver")
            owner = hook.settings.conn_id or self.sms_conn_id
            try:
                store = ReceiptStore.from_conn_id(hook.receipts_conn_id())
                cursors = PollCursors(store.database)
                suppressions = SuppressionList(store.database)
                saved = cursors.get_all(owner)
                for batch in hook.poll_receipts(saved, self.max_items):
                    for event in batch.events:
                        if isinstance(event, StatusEvent):
                            new = store.record_status(event)
                            counts["statuses"] += 1
                        else:
                            new = store.record_reply(event)
                            counts["replies"] += 1
                            counts["opted_out"] += apply_opt_out(suppressions, event)
                        counts["new" if new else "already_stored"] += 1
                    sources[batch.source] = sources.get(batch.source, 0) + len(batch.events)
                    if batch.cursor is not None:
                        cursors.set(owner, batch.source, batch.cursor)
            except JournalUnavailableError as error:
                # Everything stored so far stays; the next run goes on from the saved positions.
                raise AirflowException(f"{error}; {counts['new']} new items were stored before it") from error
        self.log.info("%s: %d statuses and %d replies taken (%d new, %d already stored), %d opted out; by source %s",
                      hook.gateway, counts["statuses"], counts["replies"], counts["new"], counts["already_stored"],
                      counts["opted_out"], sources)
        return {"gateway": hook.gateway, **counts, "sources": sources}
