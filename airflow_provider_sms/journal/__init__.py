"""The send journal: what each task already sent, so no retry, clear or re-run texts anyone twice.

Before each request that can text someone the send operators record their intent (task, the
chunk's canonical key, recipients, content digest, time), and after it the outcome (answered with
per-recipient results / refused / in doubt). A later try of the same task -- a retry, a cleared
task, a re-run of the same run -- reports answered chunks from the journal, sends refused and
unknown ones, and settles in-doubt ones with the gateway (dedupe id, or a look-up limited to the
chunk's recipients and time) before anything else; what cannot be settled fails loudly.

Modules: :mod:`.database` (connection, engine, schema set-up shared with other stores),
:mod:`.schema` (tables), :mod:`.keys` (task identity), :mod:`.store` (reads and writes),
:mod:`.plan` (what a later try does with the records).
"""

from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID, Database, JournalUnavailableError
from airflow_provider_sms.journal.keys import TaskKey
from airflow_provider_sms.journal.schema import ChunkState
from airflow_provider_sms.journal.store import ChunkRecord, SendJournal

__all__ = [
    "DEFAULT_JOURNAL_CONN_ID",
    "ChunkRecord",
    "ChunkState",
    "Database",
    "JournalUnavailableError",
    "SendJournal",
    "TaskKey",
]
