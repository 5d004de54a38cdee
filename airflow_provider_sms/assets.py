"""Assets for DAGs that run on inbound SMS replies (Airflow 3 asset watchers).

.. code-block:: python

    from airflow.sdk import DAG, task
    from airflow_provider_sms.assets import sms_reply_asset

    replies = sms_reply_asset("bulksms_default")

    with DAG(dag_id="on_reply", schedule=[replies], ...):
        @task
        def handle(triggering_asset_events=None):
            for event in triggering_asset_events[replies]:
                reply = event.extra["payload"]   # sender, text, received_at, opt_out, ...

Every reply stored in the receipt store (by the callback receiver or a poller) for that connection
becomes one asset event; see :class:`~airflow_provider_sms.triggers.replies.SmsReplyTrigger`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset

__all__ = ["REPLY_URI_PREFIX", "reply_asset_name", "sms_reply_asset"]

#: Reply assets are named ``sms://replies/<conn_id>`` (``sms://replies/all`` for every connection).
REPLY_URI_PREFIX = "sms://replies/"


def reply_asset_name(sms_conn_id: str | None) -> str:
    """``sms_replies_<conn_id>`` (``sms_replies_all`` when ``sms_conn_id`` is None)."""
    return f"sms_replies_{sms_conn_id or 'all'}"


def sms_reply_asset(sms_conn_id: str | None, *, receipts_conn_id: str | None = None, poll_interval: float = 5.0,
                    start: str = "beginning") -> Asset:
    """The asset that gets an event for each reply to ``sms_conn_id`` (None: to any connection).

    Name ``sms_replies_<conn_id>``, URI ``sms://replies/<conn_id>``, watched by an
    :class:`~airflow_provider_sms.triggers.replies.SmsReplyTrigger` of the same name. Build it the
    same way in every DAG that uses it (same arguments), so they share one watcher.

    :param receipts_conn_id: the receipt store's connection (default ``sms_journal_default``).
    :param poll_interval: seconds between looks at the store when nothing new arrived.
    :param start: ``beginning`` (default: every reply stored before the watcher first ran too) or ``end``.
    """
    from airflow.sdk import Asset, AssetWatcher

    from airflow_provider_sms.triggers.replies import SmsReplyTrigger

    name = reply_asset_name(sms_conn_id)
    trigger = SmsReplyTrigger(name=name, sms_conn_id=sms_conn_id, receipts_conn_id=receipts_conn_id,
                              poll_interval=poll_interval, start=start)
    return Asset(name=name, uri=f"{REPLY_URI_PREFIX}{sms_conn_id or 'all'}",
                 watchers=[AssetWatcher(name=name, trigger=trigger)])
