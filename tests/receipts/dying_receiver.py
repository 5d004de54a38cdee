"""A receiver process that dies right after storing its first event, before answering.

``python -m tests.receipts.dying_receiver PORT``: prints ``ready`` once listening; the first
callback it stores makes it exit with status 17 (``os._exit``: no answer, no clean-up), as a
crashed or killed API server would.
"""

from __future__ import annotations

import os
import sys
import threading

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID, open_database
from airflow_provider_sms.receipts.receiver import create_app
from airflow_provider_sms.receipts.serve import ReceiverServer, mounted_app
from airflow_provider_sms.receipts.store import ReceiptStore

EXIT_CODE = 17


class DyingStore(ReceiptStore):
    def record_status(self, event: StatusEvent) -> bool:
        super().record_status(event)
        os._exit(EXIT_CODE)

    def record_reply(self, event: ReplyEvent) -> bool:
        super().record_reply(event)
        os._exit(EXIT_CODE)


def main() -> None:
    def store_for(conn_id: str | None) -> ReceiptStore:
        store = DyingStore(open_database(conn_id or DEFAULT_JOURNAL_CONN_ID))
        store.ensure_schema()
        return store

    ReceiverServer(mounted_app(create_app(store_for=store_for)), port=int(sys.argv[1])).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
