"""Sending the chunks of one send with the journal: intent before each request, outcome after it.

A later try of the same task (a retry, a cleared task, a re-run of the same run) first reads what
earlier tries did: chunks the gateway answered are reported from the journal and not sent again;
chunks in doubt are settled with the gateway -- re-sent under their recorded dedupe id while the
gateway still remembers it, or looked up (that chunk's recipients, from its recorded intent time) --
and whatever remains in doubt is named in a loud failure, never re-sent blind; everything else is
sent, in canonical order, under keys that do not depend on input order or chunk position.

Without a journal (``journal_conn_id=None``) the chunks go out as before: a retry re-sends every
chunk under its dedupe id (gateways with duplicate suppression) or looks the whole list up
(NetMessenger), and group sends on gateways without duplicate suppression refuse to run again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from airflow_provider_sms.core.address_book import with_recipients
from airflow_provider_sms.core.dedupe import canonical_order, chunk_key, content_digest, dedupe_key, is_canonical
from airflow_provider_sms.core.results import RecipientResult, SendResult
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsCapabilityError,
    SmsConfigurationError,
    SmsError,
    SmsPartialFailure,
    SmsRateLimitedError,
)
from airflow_provider_sms.hooks.capabilities import Capability

if TYPE_CHECKING:
    from airflow_provider_sms.core.message import OutgoingMessage
    from airflow_provider_sms.hooks.base import SmsHook
    from airflow_provider_sms.journal import ChunkRecord, SendJournal, TaskKey

__all__ = ["LOOKUP_SLACK", "THROTTLE_PATIENCE", "ChunkSender", "SendOutcome", "message_content"]

log = logging.getLogger(__name__)

#: A chunk's look-up starts this long before its recorded intent time: clocks of worker and
#: gateway differ a little. Kept short so another run's identical text an hour earlier never counts.
LOOKUP_SLACK = dt.timedelta(minutes=5)
#: How long a chunk the gateway keeps throttling is sent again when the task has no
#: ``execution_timeout`` (with one, until shortly before it).
THROTTLE_PATIENCE = 3600.0
#: Chunks launched but not yet merged into the result, per request in flight (bounds memory when
#: one slow chunk holds up the in-order merge).
WINDOW_PER_REQUEST = 4


def message_content(template: OutgoingMessage) -> str:
    """Digest of everything but the recipients that makes two sends the same message."""
    return content_digest([
        template.text, template.sender or "", template.send_at.isoformat() if template.send_at else "",
        str(template.unicode), str(template.max_parts), template.client_ref or "", str(template.test_mode),
        json.dumps(dict(sorted(template.extras.items()))),
    ])


@dataclass
class SendOutcome:
    """What the chunks produced, and what a task retry could still change."""

    result: SendResult
    #: Recipients left in doubt by this try whose doubt a later try can settle (dedupe or look-up).
    settle_later: bool = False
    #: Some chunk was refused for a reason that may pass (a retry sends it again, safely).
    retry_may_help: bool = False


@dataclass
class _Chunk:
    """One new chunk on its way: its request runs in the pool, its outcome is merged in chunk order."""

    recipients: list[str]
    message: OutgoingMessage | None = None  # None: nothing to send (another try holds the chunk)
    record_id: int | None = None
    future: Future[SendResult] | None = None
    taken: str | None = None  # the chunk key another try holds
    unsent: bool = False  # recorded, then not sent: a configuration error stopped the send first
    done: bool = False


class ChunkSender:
    """Sends one send's chunks through ``hook``, recording them in ``journal`` when there is one.

    Up to ``max_in_flight`` requests go out at once (a thread pool); everything else stays in this
    thread: the journal's intent record before each request, its outcome after it, and the merge of
    each chunk's answer into the result in chunk order -- so results, XCom, journal records and
    dedupe keys are those of a serial send. A chunk the gateway throttles (nothing was sent) goes
    out again, after the hook's shared back-off, until it clears or ``throttle_deadline`` passes.
    A configuration error (credentials, allow-list) stops new chunks from starting; the ones in
    flight are recorded, then it is raised.

    :param hook: the gateway.
    :param template: the message with no recipients.
    :param task: the task's journal key, or None when the context names no run.
    :param journal: the journal, or None (no journal: the guarantees listed in the README are lost).
    :param try_number: the task's try (recorded; the fallback without a journal looks on retries).
    :param kind: ``numbers`` or ``groups``: which field of the message the recipients go in.
    :param max_in_flight: requests at once (1: one after another).
    :param throttle_deadline: ``time.monotonic()`` after which a throttled chunk is not sent again
        (default: ``THROTTLE_PATIENCE`` from now).
    :param result: what the outcomes are merged into (default: a per-recipient :class:`SendResult`).
    """

    def __init__(self, hook: SmsHook, template: OutgoingMessage, *, task: TaskKey | None,
                 journal: SendJournal | None, try_number: int, kind: str, max_in_flight: int = 1,
                 throttle_deadline: float | None = None, result: SendResult | None = None) -> None:
        self.hook = hook
        self.template = template
        self.task = task
        self.journal = journal if task is not None else None
        self.try_number = try_number
        self.kind = kind
        self.content = message_content(template)
        self.outcome = SendOutcome(result if result is not None else SendResult(hook.gateway))
        self.max_in_flight = max(1, max_in_flight)
        self.throttle_deadline = (time.monotonic() + THROTTLE_PATIENCE if throttle_deadline is None
                                  else throttle_deadline)
        self._fatal: SmsConfigurationError | None = None
        # The first request alone, where the gateway asks it (see ``SmsHook.first_request_alone``).
        self._probing = bool(getattr(hook, "first_request_alone", False))
        self._executor: ThreadPoolExecutor | None = None
        self._running: dict[Future[SendResult], _Chunk] = {}

    # -- the whole send ---------------------------------------------------------------------------

    def run(self, recipients: Sequence[str], chunk_size: int,
            before_send: Callable[[Sequence[str]], tuple[Sequence[str], SendResult]] | None = None) -> SendOutcome:
        """Send to ``recipients`` (any order; they are put in canonical order first).

        :param before_send: without a journal's records, what a retry does first (the look-up
            fallback): takes the recipients, returns those still to send and those found sent.
        """
        # The operators hand the list over in canonical order already: checked, not sorted again.
        ordered = recipients if isinstance(recipients, list) and is_canonical(recipients) \
            else canonical_order(recipients)
        records = self.journal.records(self.task) if self.journal is not None and self.task is not None else []
        if records:
            ordered = self._resume(ordered, records)
        elif before_send is not None and self._fallback_needed():
            ordered, found = before_send(ordered)
            self.outcome.result.extend(found)
        self._send_all(_chunks(ordered, chunk_size))
        return self.outcome

    def _fallback_needed(self) -> bool:
        # A journal that every worker writes to, with no record of this task: nothing was sent.
        return self.try_number > 1 and (self.journal is None or not self.journal.shared)

    def _resume(self, ordered: Sequence[str], records: Sequence[ChunkRecord]) -> list[str]:
        from airflow_provider_sms.journal.plan import plan_retry

        plan = plan_retry(self.hook.gateway, ordered, records, self.content, self.hook.rejection_is_final)
        self.outcome.result.extend(plan.done)
        refused = sum(1 for r in plan.done.results if not r.accepted)
        log.info("journal %s: %d recipients already accepted by an earlier try (reported from the journal), "
                 "%d rejected for good (reported, not sent again), %d chunks to settle, %d recipients to send",
                 self._where(), len(plan.done.results) - refused, refused, len(plan.unsettled), len(plan.to_send))
        if plan.changed_content:
            log.warning("%d recipients got a different message (text, sender or time) from an earlier try of this "
                        "task; they are not texted again: %s", len(plan.changed_content),
                        ", ".join(plan.changed_content[:20]))
        for record in plan.unsettled:
            self._settle(record)
        return plan.to_send

    def _where(self) -> str:
        return self.journal.description if self.journal is not None else "-"

    # -- new chunks, several in flight --------------------------------------------------------------

    def _send_all(self, chunks: Iterable[list[str]]) -> None:
        window: deque[_Chunk] = deque()
        cap = self.max_in_flight * WINDOW_PER_REQUEST
        # Requests go out from a pool even one at a time: the next chunk's intent is recorded while
        # the request before it is in flight. Settings, protocol object and transport are built
        # here, once, not raced for by the threads.
        self.hook.prepare()
        _ = self.hook.transport
        self._executor = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="sms-send")
        try:
            for recipients in chunks:
                if self._fatal is not None:
                    break
                # The intent is recorded while the requests before it are still in flight.
                chunk = self._begin(recipients)
                window.append(chunk)
                if chunk.message is not None:
                    self._await_place(window)
                    if self._fatal is None:
                        self._launch(chunk)
                    else:
                        chunk.unsent = chunk.done = True
                while len(window) >= cap and (window[0].done or self._running):
                    if not window[0].done:
                        self._wait_any()
                    self._merge(window)
            while self._running:
                self._wait_any()
                self._merge(window)
            self._merge(window)
        except BaseException:
            self._let_in_flight_finish()
            self._abandon(window)
            raise
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
        if self._fatal is not None:
            raise self._fatal

    def _limit(self) -> int:
        return 1 if self._probing else self.max_in_flight

    def _await_place(self, window: deque[_Chunk]) -> None:
        """Wait until a request may go out. Finished chunks are recorded while every place is taken
        (and when the window is full), so that recording them never holds back a request that could
        already go out."""
        while self._running and len(self._running) >= self._limit():
            if window and window[0].done:
                self._merge(window)
            else:
                self._wait_any()

    def _message(self, recipients: Sequence[str], key: int | None) -> OutgoingMessage:
        if self.kind == "groups":
            return replace(self.template, groups=list(recipients), dedupe_key=key)
        return replace(with_recipients(self.template, recipients), dedupe_key=key)

    def _begin(self, recipients: list[str]) -> _Chunk:
        """Key the chunk and record the intent to send it (before its request goes out)."""
        name = chunk_key(recipients, self.content, canonical=True)  # cut from the list in canonical order
        key = dedupe_key(self.task.dag_id, self.task.task_id, self.task.run_id, self.task.map_index, name) \
            if self.task is not None else None
        record_id: int | None = None
        if self.journal is not None and self.task is not None:
            record_id = self.journal.begin(self.task, chunk_key=name, gateway=self.hook.gateway,
                                           recipients=recipients, content=self.content, dedupe_key=key,
                                           send_at=self.template.send_at, try_number=self.try_number)
            if record_id is None:
                return _Chunk(recipients, taken=name, done=True)
        return _Chunk(recipients, self._message(recipients, key), record_id)

    def _submit(self, message: OutgoingMessage) -> Future[SendResult]:
        assert self._executor is not None
        return self._executor.submit(self.hook.send, message)

    def _launch(self, chunk: _Chunk) -> None:
        assert chunk.message is not None
        chunk.future = self._submit(chunk.message)
        if chunk.future.done():
            self._finished(chunk)
        else:
            self._running[chunk.future] = chunk

    def _wait_any(self) -> None:
        done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
        for future in done:
            self._finished(self._running.pop(future))

    def _finished(self, chunk: _Chunk) -> None:
        """A chunk's request ended: throttled ones go out again (nothing was sent), the rest await the merge."""
        assert chunk.future is not None
        assert chunk.message is not None
        while True:
            error = chunk.future.exception()
            if isinstance(error, SmsRateLimitedError) and self._fatal is None \
                    and time.monotonic() < self.throttle_deadline:
                log.info("chunk of %d recipients throttled (%s); sending it again after the shared back-off",
                         len(chunk.recipients), error)
                chunk.future = self._submit(chunk.message)
                if not chunk.future.done():
                    self._running[chunk.future] = chunk
                    return
                continue
            self._probing = False
            if isinstance(error, SmsConfigurationError) and self._fatal is None:
                self._fatal = error
                if self._running:
                    log.error("%s: starting no more chunks; waiting for the %d requests in flight", error,
                              len(self._running))
            chunk.done = True
            return

    def _merge(self, window: deque[_Chunk]) -> None:
        """Record the finished chunks at the head of the window, in chunk order (their outcomes in
        the journal in one transaction)."""
        if self.journal is None or not (window and window[0].done):
            self._merge_head(window)
            return
        with self.journal.outcomes_together():
            self._merge_head(window)

    def _merge_head(self, window: deque[_Chunk]) -> None:
        while window and window[0].done:
            chunk = window.popleft()
            if chunk.taken is not None:
                self._taken(chunk.taken, chunk.recipients)
                continue
            if chunk.unsent:
                if self.journal is not None and chunk.record_id is not None:
                    self.journal.refused(chunk.record_id, "not sent: a configuration error stopped the send first")
                continue
            assert chunk.future is not None
            assert chunk.message is not None
            self._record(chunk.message, chunk.recipients, chunk.record_id, chunk.future.result, fresh=True,
                         fatal_raises=False)

    def _let_in_flight_finish(self) -> None:
        """Let the requests already handed to the pool go out and end (each within the gateway call's
        deadline) instead of cancelling the ones not started yet: their intent is recorded, so a
        request cancelled here would be one the retry cannot tell from a sent one."""
        if self._running:
            wait(list(self._running), timeout=self.hook.settings.limits.deadline)

    def _abandon(self, window: deque[_Chunk]) -> None:
        """The send stopped before these chunks were recorded (journal unreachable, task timeout): in doubt."""
        unrecorded = [c for c in window if c.message is not None and not c.unsent]
        if not unrecorded:
            return
        names = [r for c in unrecorded for r in c.recipients]
        log.error("%d chunks (%d recipients) were sent or being sent when the send stopped; their outcome is not "
                  "recorded, a retry settles them first: %s", len(unrecorded), len(names), ", ".join(names[:20]))
        for c in unrecorded:
            assert c.message is not None
            self._doubt(c.recipients, settle_later=self.journal is not None or self._can_settle(c.message))
        window.clear()

    def _taken(self, name: str, recipients: list[str]) -> None:
        """Another try holds this chunk (it is sending it now, or did): report what it recorded."""
        from airflow_provider_sms.journal import ChunkState

        assert self.journal is not None
        assert self.task is not None
        record = next((r for r in self.journal.records(self.task) if r.chunk_key == name), None)
        if record is not None and record.state is ChunkState.ANSWERED:
            self.outcome.result.extend(record.result())
            return
        log.error("another try of this task is sending (or sent) %d recipients: %s", len(recipients),
                  ", ".join(recipients[:10]))
        self._doubt(recipients, settle_later=True)

    def _send(self, message: OutgoingMessage, recipients: Sequence[str], record_id: int | None, *,
              fresh: bool) -> None:
        """Send one request now and record what came of it; ``fresh`` is False when settling an old chunk."""
        self._record(message, recipients, record_id, lambda: self.hook.send(message), fresh=fresh,
                     fatal_raises=True)

    def _record(self, message: OutgoingMessage, recipients: Sequence[str], record_id: int | None,
                answer_of: Callable[[], SendResult], *, fresh: bool, fatal_raises: bool) -> None:
        """Record the answer ``answer_of()`` gives (or the error it raises) in the journal and the result."""
        journal = self.journal
        try:
            answer = answer_of()
        except SmsConfigurationError as error:
            if journal is not None and record_id is not None and fresh:
                journal.refused(record_id, str(error))  # an old chunk in doubt stays in doubt
            if fatal_raises:
                raise
            return
        except SmsPartialFailure as error:
            # Part of a group/list send failed: what the gateway accepted is in the error.
            log.error("chunk of %d recipients: %s", len(recipients), error)
            answer = SendResult.from_dict(error.result) if isinstance(error.result, dict) else SendResult(
                self.hook.gateway)
        except SmsAmbiguousError as error:
            log.error("chunk of %d recipients: %s", len(recipients), error)
            if journal is not None and record_id is not None:
                journal.in_doubt(record_id, str(error))
            self._doubt(recipients, settle_later=fresh and self._can_settle(message))
            return
        except SmsError as error:
            log.error("chunk of %d recipients refused: %s", len(recipients), error)
            if journal is not None and record_id is not None:
                journal.refused(record_id, str(error))
            self.outcome.retry_may_help |= error.retryable and (journal is not None or self._can_settle(message))
            code = str(error.code) if error.code is not None else None
            self.outcome.result.extend(SendResult(self.hook.gateway, [
                RecipientResult(r, accepted=False, code=code, text=str(error)) for r in recipients]))
            return
        if journal is not None and record_id is not None:
            journal.answered(record_id, answer, recipients)
        self.outcome.result.extend(answer)

    def _doubt(self, recipients: Iterable[str], *, settle_later: bool) -> None:
        self.outcome.result.in_doubt.extend(recipients)
        self.outcome.settle_later |= settle_later

    def _can_settle(self, message: OutgoingMessage) -> bool:
        """Could a later try settle this chunk if it ends in doubt?"""
        capabilities = self.hook.capabilities
        if Capability.DEDUPE in capabilities and message.dedupe_key is not None:
            return True
        return Capability.SENT_LOOKUP in capabilities and self.hook.can_find_sent(message)

    # -- settling a chunk an earlier try left in doubt --------------------------------------------

    def _settle(self, record: ChunkRecord) -> None:
        """Learn what became of ``record``'s chunk: dedupe re-send, look-up, or a loud failure."""
        message = self._message(record.recipients, record.dedupe_key)
        window = self.hook.dedupe_window
        age = dt.datetime.now(dt.UTC) - record.intent_at
        if (Capability.DEDUPE in self.hook.capabilities and record.dedupe_key is not None and window is not None
                and age < window):
            log.info("settling a chunk of %d recipients left in doubt %s ago: sending it again under its dedupe "
                     "id %s (the gateway answers a repeat with the original result)", len(record.recipients),
                     _age(age), record.dedupe_key)
            self._send(message, record.recipients, record.id, fresh=False)
            return
        if Capability.SENT_LOOKUP in self.hook.capabilities:
            try:
                earlier = self.hook.earlier_outcomes(message, record.intent_at - LOOKUP_SLACK)
            except SmsCapabilityError as error:
                log.error("cannot look up the chunk left in doubt: %s", error)
            else:
                self._settled_by_lookup(record, earlier)
                return
        why = ("its dedupe window has passed" if record.dedupe_key is not None and window is not None
               else f"{self.hook.gateway} cannot say what it sent")
        log.error("a chunk of %d recipients left in doubt %s ago cannot be settled (%s)", len(record.recipients),
                  _age(age), why)
        self._doubt(record.recipients, settle_later=False)

    def _settled_by_lookup(self, record: ChunkRecord, earlier: Sequence[RecipientResult]) -> None:
        assert self.journal is not None
        found = {r.recipient: r for r in earlier}
        missing = [r for r in record.recipients if r not in found]
        log.info("look-up of the chunk left in doubt: the gateway's records settle %d of %d recipients",
                 len(record.recipients) - len(missing), len(record.recipients))
        settled = SendResult(self.hook.gateway, [found[r] for r in record.recipients if r in found])
        if missing:
            # Absence proves nothing (a report may be cut short, or lag): never re-sent blind.
            self.journal.in_doubt(record.id, f"{len(missing)} recipients not found by the look-up")
            self.outcome.result.extend(settled)
            self._doubt(missing, settle_later=False)
            return
        self.journal.answered(record.id, settled)
        self.outcome.result.extend(settled)


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        part = items[start:start + size]
        yield part if type(part) is list else list(part)  # a list's slice (and a view's) is a new list already


def _age(age: dt.timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"
