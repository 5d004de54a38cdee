"""Send one text to many numbers (:class:`SmsSendOperator`) or to gateway-side groups (:class:`SmsGroupSendOperator`).

Both validate everything first (numbers, text, sender, schedule) and send nothing when any input is
bad. Recipients are put in canonical order and go out in chunks of the gateway's per-request size,
``max_in_flight`` requests at once (the connection's, else the gateway's default), sharing one rate
limit and one throttling back-off. Each chunk carries a dedupe key derived from (dag, task, run, map index, the
chunk's recipients and content) -- never from input order or chunk position -- and is recorded in
the send journal (:mod:`airflow_provider_sms.journal`) before and after its request, so a retry, a
cleared task or a re-run of the same run texts nobody twice and skips nobody
(:mod:`.journaled_send`).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from airflow_provider_sms._gc import to_oldest_generation
from airflow_provider_sms.operators.inputs import (
    MAX_GROUPS,
    as_datetime,
    as_items,
    as_names,
    check_send_options,
    fit_to_alphabet,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.message import OutgoingMessage, TestMode
    from airflow_provider_sms.core.results import RecipientResult, SendResult
    from airflow_provider_sms.hooks.base import GatewaySettings, SmsHook
    from airflow_provider_sms.journal import SendJournal

__all__ = ["SmsGroupSendOperator", "SmsSendOperator"]

log = logging.getLogger(__name__)

PER_RECIPIENT_XCOM_LIMIT = 10_000
#: The journal's default connection id (``airflow_provider_sms.journal.DEFAULT_JOURNAL_CONN_ID``);
#: written out so that importing the operators stays free of SQLAlchemy.
DEFAULT_JOURNAL_CONN_ID = "sms_journal_default"
# What is lost without a journal, said in the log of every such send.
_NO_JOURNAL = ("no send journal (journal_conn_id=None): a cleared or re-run task re-sends chunks, protected only by "
               "the gateway's dedupe window (BulkSMS) or a report look-up of the whole list (NetMessenger); group "
               "and scheduled sends on gateways without dedupe ids refuse to run again")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector during a bulk loop.

    A big send allocates hundreds of thousands of small objects (parsed answers, per-recipient
    results) that trigger full collections over Airflow's large heap again and again: 20-35% of a
    100,000-recipient send. Few of them form cycles (a few hundred objects in a send); what
    survives the loop is handed to the oldest generation (:func:`to_oldest_generation`), so those
    few are freed by the next full collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            to_oldest_generation()
            gc.enable()


class _SmsSendBase(BaseOperator):
    """What the number and group send operators share: options, validation, chunked sending, policies."""

    template_fields: Sequence[str] = ("sms_conn_id", "message", "sender", "send_at", "client_ref", "extras")
    template_fields_renderers = {"extras": "json"}
    ui_color = "#e3f2fd"

    def __init__(
        self,
        *,
        sms_conn_id: str,
        message: str,
        sender: str | None = None,
        send_at: dt.datetime | str | None = None,
        unicode: bool | None = None,
        max_parts: int | None = None,
        want_report: bool = True,
        client_ref: str | None = None,
        test_mode: TestMode | None = None,
        validity: int | dt.timedelta | None = None,
        extras: dict[str, str] | None = None,
        allow_partial_failure: bool = False,
        xcom_results: Literal["auto", "per_recipient", "summary"] = "auto",
        replace_typographic: bool = True,
        journal_conn_id: str | None = DEFAULT_JOURNAL_CONN_ID,
        max_in_flight: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_in_flight = max_in_flight
        self.sms_conn_id = sms_conn_id
        self.message = message
        self.sender = sender
        self.send_at = send_at
        self.unicode = unicode
        self.max_parts = max_parts
        self.want_report = want_report
        self.client_ref = client_ref
        self.test_mode = test_mode
        self.validity = validity
        self.extras = extras or {}
        self.allow_partial_failure = allow_partial_failure
        self.xcom_results = xcom_results
        self.replace_typographic = replace_typographic
        self.journal_conn_id = journal_conn_id

    def _hook(self) -> SmsHook:
        from airflow_provider_sms.hooks.base import get_sms_hook

        hook = get_sms_hook(self.sms_conn_id)
        hook.in_flight_override = self.max_in_flight
        return hook

    def _throttle_deadline(self) -> float:
        """Until when a chunk the gateway throttles is sent again: shortly before the task's
        ``execution_timeout`` (so the outcome is still recorded), else ``THROTTLE_PATIENCE``."""
        import time

        from airflow_provider_sms.operators.journaled_send import THROTTLE_PATIENCE

        limit = self.execution_timeout.total_seconds() if self.execution_timeout is not None else None
        patience = THROTTLE_PATIENCE if limit is None else max(0.0, limit - max(5.0, min(60.0, limit * 0.1)))
        return time.monotonic() + patience

    def _new_result(self, hook: SmsHook, recipients: int) -> SendResult:
        """What the chunks' outcomes are merged into: no per-recipient objects for accepted
        recipients when XCom keeps only a summary (``xcom_results`` summary, or auto above the limit)."""
        from airflow_provider_sms.core.results import SendResult, SendSummary

        if self.xcom_results == "per_recipient" or (self.xcom_results == "auto"
                                                     and recipients <= PER_RECIPIENT_XCOM_LIMIT):
            return SendResult(hook.gateway)
        return SendSummary(hook.gateway, keep=PER_RECIPIENT_XCOM_LIMIT if self.xcom_results == "auto" else 0)

    def _template(self) -> OutgoingMessage:
        from airflow_provider_sms.core.message import OutgoingMessage, validity_seconds

        return OutgoingMessage(
            text=self.message,
            sender=self.sender or None,
            unicode=self.unicode,
            max_parts=self.max_parts,
            want_report=self.want_report,
            send_at=as_datetime(self.send_at, "send_at"),
            client_ref=self.client_ref or None,
            test_mode=self.test_mode,
            validity=validity_seconds(self.validity),
            extras={str(k): str(v) for k, v in self.extras.items()},
        )

    def _journal(self) -> SendJournal | None:
        """The send journal (see :mod:`airflow_provider_sms.journal`), or None when switched off."""
        from airflow_provider_sms.journal import JournalUnavailableError, SendJournal

        if self.journal_conn_id is None:
            log.warning(_NO_JOURNAL)
            return None
        try:
            journal = SendJournal.open(self.journal_conn_id)
        except JournalUnavailableError as error:
            # Sending without the journal would lose the retry guarantees silently: not at all, for now.
            raise AirflowException(f"{error}; nothing was sent") from error
        if journal.shared:
            log.info("send journal: %s", journal.description)
        else:
            log.warning("send journal: %s, on this machine only (the executor may run a retry elsewhere, which "
                        "would not see it); set the connection %r to a database every worker reaches",
                        journal.description, DEFAULT_JOURNAL_CONN_ID)
        return journal

    def _send_chunks(self, hook: SmsHook, template: OutgoingMessage, recipients: Sequence[str], kind: str,
                     context: Context, journal: SendJournal | None,
                     before_send: Callable[[Sequence[str]], tuple[Sequence[str], SendResult]] | None = None
                     ) -> SendResult:
        """Send to every recipient, chunk by chunk, through ``journal`` (see :meth:`_journal`); fail
        loudly on doubt.

        A chunk the gateway refuses is recorded as rejected and the rest still go.
        """
        from airflow_provider_sms.exceptions import SmsConfigurationError
        from airflow_provider_sms.journal import JournalUnavailableError, TaskKey
        from airflow_provider_sms.operators.journaled_send import ChunkSender

        self._started = dt.datetime.now(dt.UTC)
        ti = context.get("ti")
        size = hook.max_groups_per_request if kind == "groups" else hook.max_recipients_per_request
        in_flight = hook.max_in_flight
        sender = ChunkSender(hook, template, task=TaskKey.from_context(context, self.dag_id, self.task_id),
                             journal=journal, try_number=int(getattr(ti, "try_number", 1) or 1), kind=kind,
                             max_in_flight=in_flight, throttle_deadline=self._throttle_deadline(),
                             result=self._new_result(hook, len(recipients)))
        log.info("sending to %d recipients via %s in chunks of %d, %d requests in flight%s", len(recipients),
                 hook.gateway, size, in_flight,
                 f", at most {hook.messages_per_second:g} messages/s" if hook.messages_per_second else "")
        try:
            outcome = sender.run(recipients, size, before_send)
        except JournalUnavailableError as error:
            # Mid-send: chunks whose outcomes were not written stay "sending"; the retry settles them.
            total = sender.outcome.result
            self._push(context, total)
            raise AirflowException(f"{error} ({total.accepted_count} recipients were texted before it; a retry "
                                   "settles the chunks it was recording)") from error
        except SmsConfigurationError as error:
            total = sender.outcome.result
            self._push(context, total)  # who was texted before the failure stays on record
            named = (f"; in doubt (sent or not, not re-sent): {', '.join(total.in_doubt[:20])}"
                     + (f" and {len(total.in_doubt) - 20} more" if len(total.in_doubt) > 20 else "")
                     if total.in_doubt else "")
            raise AirflowFailException(f"{error} ({total.accepted_count} recipients were texted before it{named})") \
                from error
        self._retry_may_help = outcome.retry_may_help
        total = outcome.result
        if total.in_doubt:
            self._push(context, total)
            doubt = total.in_doubt
            message = (f"{len(doubt)} recipients may or may not have been texted (accepted: {total.accepted_count}, "
                       f"rejected: {total.rejected_count}): {', '.join(doubt[:20])}"
                       + (f" and {len(doubt) - 20} more" if len(doubt) > 20 else ""))
            if outcome.settle_later:
                raise AirflowException(message + "; a task retry settles them first (dedupe id or a look-up of that "
                                       "chunk) and texts nobody twice")
            raise AirflowFailException(message + "; they cannot be settled automatically and are not sent again: "
                                       "check the gateway's outbox, then send to the missing ones in a new run")
        return total

    def _per_recipient(self, result: SendResult) -> bool:
        if self.xcom_results == "auto":
            # XCom lives in the metadata DB: a per-recipient list of a big send would be megabytes.
            return result.recipient_count <= PER_RECIPIENT_XCOM_LIMIT
        return self.xcom_results == "per_recipient"

    def _push(self, context: Context, result: SendResult) -> None:
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="send_result", value=result.to_dict(per_recipient=self._per_recipient(result)))

    def _finish(self, context: Context, result: SendResult) -> dict[str, Any]:
        data = result.to_dict(per_recipient=self._per_recipient(result))
        data["sent_at"] = self._started.isoformat()
        rejected = data["rejected_count"]
        log.info("%s: %d accepted, %d rejected, %d in doubt, %d suppressed (opted out), batches %s", result.gateway,
                 data["accepted_count"], rejected, data["in_doubt_count"], data["suppressed_count"],
                 result.batch_ids[:10])
        if rejected and not self.allow_partial_failure:
            self._push(context, result)
            sample = ", ".join(f"{r.recipient} ({r.text})" for r in result.rejected[:10])
            total = result.recipient_count - data["suppressed_count"]  # the suppressed were never sent
            text = rejection_text(rejected, total, sample)
            if getattr(self, "_retry_may_help", False):
                # Temporary refusals: a task retry re-sends every chunk under its dedupe key, so the
                # accepted ones are not sent twice and the refused ones get another chance.
                raise AirflowException(text)
            raise AirflowFailException(text)
        return data


def rejection_text(rejected: int, total: int, sample: str) -> str:
    """Why a send with rejected recipients failed, saying how many were sent (none, or the rest)."""
    if rejected == total:
        return f"all {total} recipients were rejected, nothing was sent: {sample}."
    return (f"{rejected} of {total} recipients were rejected ({total - rejected} were sent): {sample}. "
            "Set allow_partial_failure=True to accept partial sends.")


def _run_began(context: Context) -> dt.datetime:
    """A time before any try of this run sent anything, that clearing the task does not move.

    ``dag_run.start_date`` is reset when a task is cleared, so it cannot bound the look-up of what
    earlier tries sent; ``run_after`` (or the logical date) stays put. A few minutes of slack cover
    clock differences with the gateway; more would reach the previous run of an hourly DAG.
    Used only without a journal: the journal bounds each chunk's look-up by its own intent time.
    """
    from airflow_provider_sms.operators.journaled_send import LOOKUP_SLACK

    dag_run = context.get("dag_run")
    for name in ("run_after", "logical_date", "queued_at"):
        value = getattr(dag_run, name, None) or context.get(name)  # type: ignore[misc]
        if isinstance(value, dt.datetime):
            return value - LOOKUP_SLACK
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


def _retry_safe(hook: SmsHook) -> bool:
    """Can a retried task re-send without texting anyone twice on this gateway?"""
    from airflow_provider_sms.hooks.capabilities import Capability

    return bool({Capability.DEDUPE, Capability.SENT_LOOKUP} & hook.capabilities)


def _address_book_entries(hook: SmsHook, items: list[str] | str) -> tuple[list[str], list[str]]:
    """Split ``to`` into number inputs and ``group:``/``contact:`` entries; only some gateways take entries.

    A list without entries (the bulk case) is handed on as it is, not copied.
    """
    from airflow_provider_sms.core.address_book import split_address_book
    from airflow_provider_sms.core.recipients import split_recipients
    from airflow_provider_sms.hooks.capabilities import Capability

    if not isinstance(items, str) and ":" not in "".join(items):  # a scan of one string: a fifth of any()'s time
        return items, []  # blank entries are dropped when the numbers are read
    raw, entries = split_address_book(split_recipients(items), gateway=hook.gateway)
    if entries:
        hook.require(Capability.ADDRESS_BOOK_SEND, f"write numbers only (got {entries[0].written!r}), or "
                                                   "send to groups with SmsGroupSendOperator")
    return raw, [e.written for e in entries]


#: From this many numbers on, a send holds its recipients as integers
#: (:class:`~airflow_provider_sms.core.recipient_set.CanonicalRecipients`, 8 bytes each); below it
#: as the list of normalised strings (about 70 bytes each, at most ~15 MB), which is quicker to build.
COMPACT_FROM = 200_000


def _canonical_numbers(raw: list[str] | str, settings: GatewaySettings, gateway: str) -> Sequence[str]:
    """``raw`` normalised (every number checked), once each, in canonical order: how the chunks go."""
    from airflow_provider_sms.core.dedupe import canonical_order
    from airflow_provider_sms.core.recipient_set import CanonicalRecipients
    from airflow_provider_sms.core.recipients import iter_normalised_blocks, normalise_numbers

    if isinstance(raw, list) and len(raw) < COMPACT_FROM:
        return canonical_order(normalise_numbers(raw, settings.default_region, settings.number_check, field="to",
                                                 gateway=gateway))
    # A million numbers are never a list, set and sorted copy of strings: read a block at a time.
    return CanonicalRecipients.of_blocks(iter_normalised_blocks(raw, settings.default_region, settings.number_check,
                                                                field="to", gateway=gateway))


def _in_order_e164(to: object, settings: GatewaySettings) -> Sequence[str] | None:
    """``to`` as :class:`~airflow_provider_sms.core.e164_digits.E164Digits` when it is a list of
    valid numbers written ``+<country code><number>``, all as long, each greater than the one
    before (a list from an ordered query): read where it stands, its digits made a chunk at a time
    (those of the chunks after the first while earlier ones are in flight). None for anything else,
    which :func:`as_items` and :func:`_canonical_numbers` then read.

    The order is looked at first: a list in any other order fails at its first step back, before
    its numbers are read. An entry that is not a string fails the check (and is then named).
    """
    from airflow_provider_sms.core.dedupe import strictly_increasing
    from airflow_provider_sms.core.e164_digits import E164Digits
    from airflow_provider_sms.core.recipients import in_order_e164_width

    if type(to) is not list or not to or len(to) >= COMPACT_FROM or settings.number_check != "valid":
        return None
    try:
        in_order = strictly_increasing(to)
    except TypeError:  # entries that do not compare (a number and a string): as_items says what they are
        return None
    return E164Digits(to) if in_order and in_order_e164_width(to) is not None else None


def _recipients(hook: SmsHook, to: object, settings: GatewaySettings) -> tuple[Sequence[str], list[str], int]:
    """The numbers of ``to`` once each in canonical order, its address-book entries, and how many
    numbers it gave (duplicates and blanks counted)."""
    numbers = _in_order_e164(to, settings)
    if numbers is not None:  # nothing but numbers: no address-book entry can be among them
        return numbers, [], len(numbers)
    raw, entries = _address_book_entries(hook, as_items(to, "to"))
    if entries:  # the numbers among the entries may be in order too (a list without was looked at)
        numbers = _in_order_e164(raw, settings)
    if numbers is None:
        numbers = _canonical_numbers(raw, settings, hook.gateway) if raw or not entries else []
    return numbers, entries, len(raw)


def _with_entries(numbers: Sequence[str], entries: list[str]) -> Sequence[str]:
    """The numbers (canonical order) and the address-book entries, in canonical order together."""
    from airflow_provider_sms.core.dedupe import canonical_order
    from airflow_provider_sms.core.recipient_set import CanonicalRecipients

    if isinstance(numbers, CanonicalRecipients):
        return numbers.plus(entries)
    return canonical_order([*numbers, *entries]) if entries else numbers


class SmsSendOperator(_SmsSendBase):
    """Send ``message`` to every number in ``to`` through the gateway of ``sms_conn_id``.

    :param sms_conn_id: SMS connection (its type picks the gateway). Templated.
    :param to: numbers: a list/tuple, a comma-separated string, or an XCom (``other_task.output``), at
        most 1,000,000. Each entry is a string (or a whole number) holding only digits, spaces, ``+``,
        ``-``, ``.``, ``(`` and ``)``: letters are never read as keypad digits, extensions are refused,
        and a dict, set, float or bool is refused naming its type. Numbers in national form use the
        connection's ``default_region``. Duplicates (after normalising) are sent once. On gateways with an
        address book in the send (Bulletin Messenger), entries written ``group:Name`` or ``contact:Name``
        may stand among the numbers; other gateways refuse them. Templated.
    :param message: the text (control characters such as NUL are refused; newline, carriage return and,
        where the text goes as UCS-2, tab are fine). Templated.
    :param sender: sender id (alphanumeric up to 11 characters, or a number). Templated.
    :param send_at: schedule for later: a timezone-aware datetime or an ISO 8601 string with a UTC
        offset (``2027-06-01T09:00:00+01:00``, ``...Z``). A time without a zone (naive datetime or
        string) is refused, never guessed; so are unparseable text, times in the past and more than
        two years ahead. Templated.
    :param unicode: None detects (UCS-2 when the text needs it), False refuses non-GSM text, True forces UCS-2.
    :param max_parts: the most SMS parts one message may use (gateway default when None).
    :param want_report: ask for delivery reports.
    :param client_ref: your own reference, where the gateway keeps one (BulkSMS ``source_id``/``userSuppliedId``).
    :param test_mode: ``"succeed"``/``"fail"``: gateway test flags (validate, deliver nothing).
    :param validity: how long the gateway keeps trying to deliver, in seconds or as a
        ``datetime.timedelta`` (NetMessenger: at most 86,400 s, its default when unset). A gateway
        without a validity setting (BulkSMS) refuses it before anything is sent.
    :param extras: gateway-specific parameters passed through as they are (e.g. ``{"routing_group": "2"}``).
    :param allow_partial_failure: succeed even when some recipients were rejected (default: fail
        after sending to the rest).
    :param xcom_results: ``per_recipient`` returns every recipient's outcome; ``summary`` returns
        counts, batch ids, message ids and the rejected recipients only; ``auto`` (default) is
        ``per_recipient`` up to 10,000 recipients and ``summary`` above.
    :param replace_typographic: where the text cannot go as UCS-2 (``unicode=False``, or a gateway
        without Unicode such as NetMessenger unless ``allow_unicode``), replace curly quotes, dashes,
        the ellipsis and no-break spaces by their GSM equivalents (default; logged, and listed in the
        result's ``text_replacements``); False refuses such text instead.

    Every bad argument (wrong type, unknown value, unparseable date, ...) is a validation error naming
    the argument and its limit, raised before anything is sent and never retried.
    :return: ``{"gateway", "accepted_count", "rejected_count", "suppressed_count", "batch_ids", "message_ids",
        "results"|"rejected", ...}``

    :param journal_conn_id: the send journal's connection (default ``sms_journal_default``; without
        that connection, a SQLite file in ``$AIRFLOW_HOME``); None switches the journal off.
    :param honour_opt_outs: skip numbers on the suppression list (people who replied STOP or another
        stop word, see ``docs/receipts.md``) and report them as ``suppressed`` (``suppressed_count`` in
        the result, status ``suppressed`` per recipient); default True. Set False for transactional
        messages the person must get whatever they opted out of (a one-time code, an outage notice).
        The list lives in the journal's database (``journal_conn_id``, or the default one when that is None).
    :param max_in_flight: requests of this send at once (1-64), overriding the connection's extra
        ``max_in_flight`` and the gateway's default (BulkSMS 1, as the vendor asks; NetMessenger and
        Bulletin 2; Skycore 8). The results, XCom, journal and dedupe keys are those of a serial
        send. Chunks the gateway throttles are sent again until they clear, within the task's
        ``execution_timeout`` (without one, an hour).

    Retries, clears and re-runs of the same run: chunks the gateway answered are reported from the
    journal and not sent again (for as long as the journal keeps them); a chunk whose answer was lost
    is settled first -- re-sent under its dedupe id inside the gateway's window (BulkSMS), or looked
    up in the gateway's reports from that chunk's intent time (NetMessenger) -- and whoever remains
    in doubt is named in a failure, never texted blind. See the README's "Guarantees".
    """

    template_fields: Sequence[str] = (*_SmsSendBase.template_fields, "to")

    def __init__(self, *, sms_conn_id: str, to: str | Sequence[str] | Any, message: str,
                 honour_opt_outs: bool = True, **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, message=message, **kwargs)
        self.to = to
        self.honour_opt_outs = honour_opt_outs

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import iter_chunks

        with airflow_errors(), gc_paused():
            check_send_options(self)
            hook = self._hook()
            settings = hook.settings
            unique, entries, given = _recipients(hook, self.to, settings)
            if len(unique) < given:
                log.info("dropped %d duplicate (or blank) recipients", given - len(unique))
            template, replaced = fit_to_alphabet(self._template(), hook, replace=self.replace_typographic)
            if unique or not entries:
                hook.check_message(replace(template, numbers=unique[:1]))
            for part in iter_chunks(entries, hook.max_recipients_per_request):  # every address-book name first
                hook.check_message(replace(template, groups=part))
            # Opened before the opt-out list: its schema check reads every store's version in one query.
            journal = self._journal()
            kept, suppressed = self._drop_opted_out(hook, unique, context, journal)
            del unique
            result = self._send_chunks(hook, template, _with_entries(kept, entries), "numbers",
                                       context, journal,
                                       before_send=lambda recipients: self._skip_already_sent(hook, recipients,
                                                                                              template, context))
            result.results.extend(suppressed)
            result.text_replacements.update(replaced)
            return self._finish(context, result)

    def _drop_opted_out(self, hook: SmsHook, numbers: Sequence[str], context: Context,
                        journal: SendJournal | None) -> tuple[Sequence[str], list[RecipientResult]]:
        """The numbers to send to, and the ``suppressed`` results of those on the suppression list."""
        from airflow_provider_sms.journal import TaskKey
        from airflow_provider_sms.operators.opt_outs import drop_opted_out, journal_texted

        if not self.honour_opt_outs:
            return numbers, []
        task = TaskKey.from_context(context, self.dag_id, self.task_id)
        return drop_opted_out(numbers, conn_id=self.journal_conn_id or DEFAULT_JOURNAL_CONN_ID, gateway=hook.gateway,
                              texted_before=lambda: journal_texted(journal, task))

    def _skip_already_sent(self, hook: SmsHook, recipients: Sequence[str], template: OutgoingMessage,
                           context: Context) -> tuple[Sequence[str], SendResult]:
        """Without the journal's records, a retry first drops the recipients an earlier try already
        handled (gateways without dedupe ids): the look-up of the whole list from the run's start."""
        from airflow_provider_sms.core.address_book import with_recipients
        from airflow_provider_sms.core.results import SendResult
        from airflow_provider_sms.hooks.capabilities import Capability

        if Capability.DEDUPE in hook.capabilities:
            return recipients, SendResult(hook.gateway)  # chunks are re-sent under their dedupe ids
        if Capability.SENT_LOOKUP not in hook.capabilities:
            raise AirflowFailException(
                f"{hook.gateway} cannot tell what an earlier try already sent; not sending again, to avoid "
                "texting anyone twice. Check the gateway's outbox and re-run with the missing recipients.")
        earlier = hook.earlier_outcomes(with_recipients(template, recipients), _run_began(context))
        done = {r.recipient for r in earlier}
        log.info("retry without the journal's records: an earlier try already handled %d of %d recipients",
                 len(done), len(recipients))
        return [r for r in recipients if r not in done], SendResult(hook.gateway, earlier)


class SmsGroupSendOperator(_SmsSendBase):
    """Send ``message`` to gateway-side groups (BulkSMS phonebook groups, NetMessenger groups/lists).

    :param group: a group id or name, or a list/tuple of them (at most 1,000; a dict or set is refused);
        gateways that take one group per request (NetMessenger, names written ``group:Name`` or
        ``list:Name``) get one request per group. Templated.

    Other parameters as for :class:`SmsSendOperator`.
    """

    template_fields: Sequence[str] = (*_SmsSendBase.template_fields, "group")

    def __init__(self, *, sms_conn_id: str, group: str | int | Sequence[str | int], message: str,
                 **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, message=message, **kwargs)
        self.group = group

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import iter_chunks
        from airflow_provider_sms.hooks.capabilities import Capability

        with airflow_errors():
            check_send_options(self)
            hook = self._hook()
            hook.require(Capability.GROUP_SEND)
            groups = as_names(self.group, "group", max_items=MAX_GROUPS)
            if not groups:
                raise AirflowFailException("group: no group given")
            template, replaced = fit_to_alphabet(self._template(), hook, replace=self.replace_typographic)
            for part in iter_chunks(groups, hook.max_groups_per_request):  # every group is checked first
                hook.check_message(replace(template, groups=part))
            # Without the journal's records, a retried group send can trust only the gateway's dedupe ids.
            refuse = None if Capability.DEDUPE in hook.capabilities else _refuse_blind_group_resend(hook)
            result = self._send_chunks(hook, template, groups, "groups", context, self._journal(), before_send=refuse)
            result.text_replacements.update(replaced)
            return self._finish(context, result)


def _refuse_blind_group_resend(hook: SmsHook) -> Callable[[Sequence[str]], tuple[Sequence[str], SendResult]]:
    def refuse(groups: Sequence[str]) -> tuple[Sequence[str], SendResult]:
        raise AirflowFailException(
            f"{hook.gateway} cannot tell whether an earlier try already texted {', '.join(groups[:10])}, and no "
            "send journal recorded it; not sending again, to avoid texting anyone twice")

    return refuse
