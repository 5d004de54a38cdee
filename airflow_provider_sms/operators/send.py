"""Send one text to many numbers (:class:`SmsSendOperator`) or to gateway-side groups (:class:`SmsGroupSendOperator`).

Both validate everything first (numbers, text, sender, schedule) and send nothing when any input is
bad. Big recipient lists go out in chunks of the gateway's per-request size, one after another.
Each chunk carries a dedupe key derived from (dag, task, run, map index, chunk number, content), so
a retried task re-submits the same chunks under the same keys and gateways that deduplicate
(BulkSMS) answer with the original result instead of texting again.
"""

from __future__ import annotations

import ast
import datetime as dt
import gc
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.message import OutgoingMessage, TestMode
    from airflow_provider_sms.core.results import RecipientResult, SendResult
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsGroupSendOperator", "SmsSendOperator"]

log = logging.getLogger(__name__)

PER_RECIPIENT_XCOM_LIMIT = 10_000


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector during a bulk loop.

    A big send allocates hundreds of thousands of small objects (parsed answers, per-recipient
    results) that trigger full collections over Airflow's large heap again and again: 20-35% of a
    100,000-recipient send. None of them form cycles, so nothing is lost by collecting later.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _as_items(value: Any) -> list[str] | str:
    """Accept a list, a comma-separated string, or a rendered XCom list (``"['4477...', ...]"``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = ast.literal_eval(text)
            return [str(v) for v in parsed]
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    raise AirflowFailException(f"cannot read recipients from a {type(value).__name__}")


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    import pendulum

    parsed = pendulum.parse(str(value))
    if not isinstance(parsed, dt.datetime):
        raise AirflowFailException(f"send_at {value!r} is not a date and time")
    return parsed


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
        extras: dict[str, str] | None = None,
        allow_partial_failure: bool = False,
        xcom_results: Literal["auto", "per_recipient", "summary"] = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.message = message
        self.sender = sender
        self.send_at = send_at
        self.unicode = unicode
        self.max_parts = max_parts
        self.want_report = want_report
        self.client_ref = client_ref
        self.test_mode = test_mode
        self.extras = extras or {}
        self.allow_partial_failure = allow_partial_failure
        self.xcom_results = xcom_results

    def _hook(self) -> SmsHook:
        from airflow_provider_sms.hooks.base import get_sms_hook

        return get_sms_hook(self.sms_conn_id)

    def _template(self) -> OutgoingMessage:
        from airflow_provider_sms.core.message import OutgoingMessage

        return OutgoingMessage(
            text=self.message,
            sender=self.sender or None,
            unicode=self.unicode,
            max_parts=self.max_parts,
            want_report=self.want_report,
            send_at=_as_datetime(self.send_at),
            client_ref=self.client_ref or None,
            test_mode=self.test_mode,
            extras={str(k): str(v) for k, v in self.extras.items()},
        )

    def _key_base(self, context: Context) -> tuple[str, str, str, int]:
        ti = context.get("ti")
        map_index = getattr(ti, "map_index", -1) if ti is not None else -1
        run_id = context.get("run_id") or getattr(ti, "run_id", None) or ""
        return (self.dag_id or "", self.task_id, str(run_id), int(map_index if map_index is not None else -1))

    def _send_chunks(self, hook: SmsHook, template: OutgoingMessage, chunks: Iterable[OutgoingMessage],
                     context: Context) -> SendResult:
        """Send every chunk; a chunk the gateway refuses is recorded as rejected and the rest still go."""
        from airflow_provider_sms.core.dedupe import content_digest, dedupe_key
        from airflow_provider_sms.core.results import RecipientResult, SendResult
        from airflow_provider_sms.exceptions import (
            SmsAmbiguousError,
            SmsConfigurationError,
            SmsError,
            SmsPartialFailure,
        )

        self._started = dt.datetime.now(dt.UTC)
        key_base = self._key_base(context) if run_id_known(context) else None
        total = SendResult(gateway=hook.gateway)
        in_doubt: list[str] = []
        self._retry_may_help = False
        replay_safe = _retry_safe(hook) and key_base is not None
        for index, chunk in enumerate(chunks):
            recipients = [*chunk.numbers, *chunk.groups]
            key = None
            if key_base is not None:
                key = dedupe_key(*key_base, index, content_digest([*recipients, template.text]))
            try:
                total.extend(hook.send(replace(chunk, dedupe_key=key)))
            except SmsConfigurationError as error:
                self._push(context, total)  # who was texted before the failure stays on record
                accepted = len(total.accepted)
                raise AirflowFailException(f"{error} ({accepted} recipients were texted before it)") from error
            except SmsPartialFailure as error:
                # Part of a group/list send failed: what the gateway accepted is in the error.
                log.error("chunk %d: %s", index, error)
                total.extend(SendResult.from_dict(error.result) if isinstance(error.result, dict)
                             else SendResult(hook.gateway))
            except SmsAmbiguousError as error:
                in_doubt.extend(error.recipients_in_doubt or recipients)
                log.error("chunk %d: %s", index, error)
            except SmsError as error:
                log.error("chunk %d of %d recipients refused: %s", index, len(recipients), error)
                self._retry_may_help |= error.retryable and replay_safe
                total.results.extend(
                    RecipientResult(r, accepted=False, code=str(error.code) if error.code is not None else None,
                                    text=str(error)) for r in recipients)
        if in_doubt:
            self._push(context, total)
            message = (f"{len(in_doubt)} recipients may or may not have been texted (the gateway's answer was "
                       f"lost): {', '.join(in_doubt[:20])}")
            if replay_safe:
                raise AirflowException(message + "; a task retry will not text them twice (dedupe ids, or a "
                                       "look-up of what was sent)")
            raise AirflowFailException(message + "; not retried, to avoid texting anyone twice")
        return total

    def _per_recipient(self, result: SendResult) -> bool:
        if self.xcom_results == "auto":
            # XCom lives in the metadata DB: a per-recipient list of a big send would be megabytes.
            return len(result.results) <= PER_RECIPIENT_XCOM_LIMIT
        return self.xcom_results == "per_recipient"

    def _push(self, context: Context, result: SendResult) -> None:
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="send_result", value=result.to_dict(per_recipient=self._per_recipient(result)))

    def _finish(self, context: Context, result: SendResult) -> dict[str, Any]:
        data = result.to_dict(per_recipient=self._per_recipient(result))
        data["sent_at"] = self._started.isoformat()
        rejected = data["rejected_count"]
        log.info("%s: %d accepted, %d rejected, batches %s", result.gateway, data["accepted_count"], rejected,
                 result.batch_ids[:10])
        if rejected and not self.allow_partial_failure:
            self._push(context, result)
            sample = ", ".join(f"{r.recipient} ({r.text})" for r in result.rejected[:10])
            total = len(result.results)
            if rejected == total:
                text = f"all {total} recipients were rejected, nothing was sent: {sample}."
            else:
                text = (f"{rejected} of {total} recipients were rejected ({total - rejected} were sent): {sample}. "
                        "Set allow_partial_failure=True to accept partial sends.")
            if getattr(self, "_retry_may_help", False):
                # Temporary refusals: a task retry re-sends every chunk under its dedupe key, so the
                # accepted ones are not sent twice and the refused ones get another chance.
                raise AirflowException(text)
            raise AirflowFailException(text)
        return data


def _run_began(context: Context) -> dt.datetime:
    """A time before any try of this run sent anything, that clearing the task does not move.

    ``dag_run.start_date`` is reset when a task is cleared, so it cannot bound the look-up of what
    earlier tries sent; ``run_after`` (or the logical date) stays put. An hour of slack covers
    clock differences with the gateway.
    """
    dag_run = context.get("dag_run")
    for name in ("run_after", "logical_date", "queued_at"):
        value = getattr(dag_run, name, None) or context.get(name)  # type: ignore[misc]
        if isinstance(value, dt.datetime):
            return value - dt.timedelta(hours=1)
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


def _retry_safe(hook: SmsHook) -> bool:
    """Can a retried task re-send without texting anyone twice on this gateway?"""
    from airflow_provider_sms.hooks.capabilities import Capability

    return bool({Capability.DEDUPE, Capability.SENT_LOOKUP} & hook.capabilities)


def run_id_known(context: Context) -> bool:
    ti = context.get("ti")
    return bool(context.get("run_id") or getattr(ti, "run_id", None))


class SmsSendOperator(_SmsSendBase):
    """Send ``message`` to every number in ``to`` through the gateway of ``sms_conn_id``.

    :param sms_conn_id: SMS connection (its type picks the gateway). Templated.
    :param to: numbers: a list, a comma-separated string, or an XCom (``other_task.output``). Numbers
        in national form use the connection's ``default_region``. Duplicates (after normalising) are
        sent once. Templated.
    :param message: the text. Templated.
    :param sender: sender id (alphanumeric up to 11 characters, or a number). Templated.
    :param send_at: schedule for later (timezone-aware datetime or ISO string); in the past or more
        than two years ahead is an error. Templated.
    :param unicode: None detects (UCS-2 when the text needs it), False refuses non-GSM text, True forces UCS-2.
    :param max_parts: the most SMS parts one message may use (gateway default when None).
    :param want_report: ask for delivery reports.
    :param client_ref: your own reference, where the gateway keeps one (BulkSMS ``source_id``/``userSuppliedId``).
    :param test_mode: ``"succeed"``/``"fail"``: gateway test flags (validate, deliver nothing).
    :param extras: gateway-specific parameters passed through as they are (e.g. ``{"routing_group": "2"}``).
    :param allow_partial_failure: succeed even when some recipients were rejected (default: fail
        after sending to the rest).
    :param xcom_results: ``per_recipient`` returns every recipient's outcome; ``summary`` returns
        counts, batch ids, message ids and the rejected recipients only; ``auto`` (default) is
        ``per_recipient`` up to 10,000 recipients and ``summary`` above.
    :return: ``{"gateway", "accepted_count", "rejected_count", "batch_ids", "message_ids", "results"|"rejected", ...}``

    Retries: BulkSMS drops a repeated chunk within its dedupe window (EAPI: a few hours; JSON API:
    about 12 hours), so a retry or a cleared task inside that window texts nobody twice; after it,
    a re-run is a new send. NetMessenger has no such window: a retry reads the MessagesWithBodies
    report (from the run's ``run_after``) and skips numbers that already got the text.
    """

    template_fields: Sequence[str] = (*_SmsSendBase.template_fields, "to")

    def __init__(self, *, sms_conn_id: str, to: str | Sequence[str] | Any, message: str, **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, message=message, **kwargs)
        self.to = to

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.core.recipients import normalise_numbers
        from airflow_provider_sms.hooks.base import iter_chunks

        with airflow_errors(), gc_paused():
            hook = self._hook()
            settings = hook.settings
            numbers = normalise_numbers(_as_items(self.to), settings.default_region, settings.number_check,
                                        field="to", gateway=hook.gateway)
            unique = list(dict.fromkeys(numbers))
            if len(unique) < len(numbers):
                log.info("dropped %d duplicate recipients", len(numbers) - len(unique))
            template = self._template()
            hook.check_message(replace(template, numbers=unique[:1]))
            unique, earlier = self._skip_already_sent(hook, unique, template.text, context)
            size = hook.max_recipients_per_request
            chunks = (replace(template, numbers=chunk) for chunk in iter_chunks(unique, size))
            log.info("sending to %d recipients via %s in chunks of %d", len(unique), hook.gateway, size)
            result = self._send_chunks(hook, template, chunks, context)
            result.results[:0] = earlier
            return self._finish(context, result)

    def _skip_already_sent(self, hook: SmsHook, numbers: list[str], text: str,
                           context: Context) -> tuple[list[str], list[RecipientResult]]:
        """On a retry, drop the numbers an earlier try already texted (gateways without dedupe ids)."""
        from airflow_provider_sms.core.results import RecipientResult
        from airflow_provider_sms.hooks.capabilities import Capability

        ti = context.get("ti")
        if getattr(ti, "try_number", 1) <= 1 or Capability.DEDUPE in hook.capabilities:
            return numbers, []
        if Capability.SENT_LOOKUP not in hook.capabilities:
            raise AirflowFailException(
                f"{hook.gateway} cannot tell what an earlier try already sent; not sending again, to avoid "
                "texting anyone twice. Check the gateway's outbox and re-run with the missing recipients.")
        since = _run_began(context)
        done = hook.already_sent(numbers, text, since)
        log.info("retry: %d of %d recipients already got this text from an earlier try", len(done), len(numbers))
        earlier = [RecipientResult(n, accepted=True, code="already_sent", text="sent by an earlier try")
                   for n in numbers if n in done]
        return [n for n in numbers if n not in done], earlier


class SmsGroupSendOperator(_SmsSendBase):
    """Send ``message`` to gateway-side groups (BulkSMS phonebook groups, NetMessenger groups/lists).

    :param group: a group id or name, or a list of them; gateways that take one group per request
        (NetMessenger, names written ``group:Name`` or ``list:Name``) get one request per group. Templated.

    Other parameters as for :class:`SmsSendOperator`.
    """

    template_fields: Sequence[str] = (*_SmsSendBase.template_fields, "group")

    def __init__(self, *, sms_conn_id: str, group: str | int | Sequence[str | int], message: str,
                 **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, message=message, **kwargs)
        self.group = group

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.core.recipients import split_recipients
        from airflow_provider_sms.hooks.base import iter_chunks
        from airflow_provider_sms.hooks.capabilities import Capability

        with airflow_errors():
            hook = self._hook()
            hook.require(Capability.GROUP_SEND)
            groups = list(dict.fromkeys(split_recipients(_as_items(self.group))))
            if not groups:
                raise AirflowFailException("group: no group given")
            template = self._template()
            chunks = [replace(template, groups=part) for part in iter_chunks(groups, hook.max_groups_per_request)]
            for chunk in chunks:  # every group is checked before the first is sent
                hook.check_message(chunk)
            result = self._send_chunks(hook, template, chunks, context)
            return self._finish(context, result)
