"""Send an MMS (:class:`MmsSendOperator`): slides with media and text, or saved content, to numbers,
gateway-side groups or a campaign, on any gateway that declares the ``MMS`` capability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.mms import MmsContent, MmsMessage
    from airflow_provider_sms.core.results import RecipientResult, SendResult
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["MmsSendOperator"]


class MmsSendOperator(BaseOperator):
    """Send an MMS through the gateway of ``sms_conn_id`` (only gateways with MMS: Skycore today).

    Give the content as ``slides`` (saved first, then sent by its id) or as a saved ``mms_id``;
    the recipients as numbers (``to``), gateway-side groups (``group``: Skycore subscriber
    references, in ``campaign_ref``) or a whole ``campaign``. Everything is checked before anything
    is sent: numbers, slide and media limits, sender, custom texts, merge data.

    :param sms_conn_id: SMS connection. Templated.
    :param to: numbers: a list, a comma-separated string, or an XCom. Templated.
    :param group: gateway-side group(s) (Skycore: subscriber references). Templated.
    :param campaign: send to every subscriber of this campaign (Skycore ``sendSavedMMSCampaign``). Templated.
    :param slides: ``[{"image": url, "audio": url, "video": url, "text": "...", "duration": 5}, ...]``. Templated.
    :param mms_id: id of content saved earlier (instead of ``slides``). Templated.
    :param name: name to save ``slides`` under (default ``<dag_id>.<task_id>``). Templated.
    :param subject: the MMS subject. Templated.
    :param fallback_text: SMS text for handsets that cannot receive MMS. Templated.
    :param custom_subject: replaces the saved subject for this send (saved content only). Templated.
    :param custom_texts: replaces slide texts, by 1-based slide number. Templated.
    :param merge_data: merge fields for personalised content (``{"FIRST_NAME": "Ann"}``). Templated.
    :param sender: sender (a short/long code, or an alphanumeric mask). Templated.
    :param campaign_ref: campaign the send is filed under (subscriber-reference sends need one). Templated.
    :param allow_partial_failure: succeed even when some recipients were rejected.
    :param honour_opt_outs: skip numbers in ``to`` that are on the suppression list (they replied STOP
        or another stop word) and report them as ``suppressed``; default True, False for transactional
        messages. The list is in the send journal's database (connection ``sms_journal_default``).
    :return: ``{"gateway", "mms_id", "accepted_count", "rejected_count", "batch_ids", "message_ids", "results"}``:
        per recipient its tracking id (``message_id``), or the gateway's refusal.

    Retries: a send whose answer was lost is never repeated (the task fails naming who is in
    doubt). On gateways without duplicate suppression or a look-up of what was sent (Skycore), a
    retried task refuses to send again rather than text anyone twice.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "to", "group", "campaign", "slides", "mms_id", "name",
                                      "subject", "fallback_text", "custom_subject", "custom_texts", "merge_data",
                                      "sender", "campaign_ref")
    template_fields_renderers = {"slides": "json", "merge_data": "json", "custom_texts": "json"}
    ui_color = "#fce4ec"

    def __init__(self, *, sms_conn_id: str, to: Any = None, group: Any = None, campaign: str | None = None,
                 slides: Sequence[Mapping[str, Any]] | None = None, mms_id: str | None = None,
                 name: str | None = None, subject: str | None = None, fallback_text: str | None = None,
                 custom_subject: str | None = None, custom_texts: Mapping[int | str, str] | None = None,
                 merge_data: Mapping[str, str] | None = None, sender: str | None = None,
                 campaign_ref: str | None = None, allow_partial_failure: bool = False, honour_opt_outs: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (slides is None) == (mms_id is None):
            raise ValueError("give either slides or mms_id")
        if sum(x is not None for x in (to, group, campaign)) != 1:
            raise ValueError("give exactly one of to, group or campaign")
        self.sms_conn_id = sms_conn_id
        self.to = to
        self.group = group
        self.campaign = campaign
        self.slides = slides
        self.mms_id = mms_id
        self.name = name
        self.subject = subject
        self.fallback_text = fallback_text
        self.custom_subject = custom_subject
        self.custom_texts = custom_texts  # checked (and read when rendered as text) in execute
        self.merge_data = merge_data
        self.sender = sender
        self.campaign_ref = campaign_ref
        self.allow_partial_failure = allow_partial_failure
        self.honour_opt_outs = honour_opt_outs

    def _content(self) -> MmsContent | None:
        from airflow_provider_sms.core.mms import MmsContent, slides_from_dicts

        if self.slides is None:
            return None
        name = self.name or f"{self.dag_id}.{self.task_id}"
        return MmsContent(name, slides_from_dicts(list(self.slides)), self.subject, self.fallback_text)

    def _messages(self, hook: SmsHook, mms_id: str) -> list[MmsMessage]:
        from airflow_provider_sms.core.mms import MmsMessage
        from airflow_provider_sms.core.recipients import normalise_numbers
        from airflow_provider_sms.operators.inputs import as_items, as_names

        common: dict[str, Any] = {
            "mms_id": mms_id, "sender": self.sender or None, "fallback_text": self.fallback_text,
            "custom_subject": self.custom_subject,
            "merge_data": {str(k): str(v) for k, v in (self.merge_data or {}).items()},
            "custom_texts": {int(k): str(v) for k, v in (self.custom_texts or {}).items()},
            "campaign_ref": str(self.campaign_ref) if self.campaign_ref not in (None, "") else None,
        }
        if self.campaign is not None:
            return [MmsMessage(campaign=str(self.campaign), **common)]
        if self.group is not None:
            groups = as_names(self.group, "group")
            return [MmsMessage(groups=[g], **common) for g in groups]
        settings = hook.settings
        numbers = normalise_numbers(as_items(self.to, "to"), settings.default_region, settings.number_check,
                                    field="to", gateway=hook.gateway)
        return [MmsMessage(numbers=[n], **common) for n in dict.fromkeys(numbers)]

    def execute(self, context: Context) -> dict[str, Any]:
        from dataclasses import replace

        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.hooks.capabilities import Capability
        from airflow_provider_sms.operators.send import _retry_safe

        with airflow_errors():
            self._check_options()
            hook = get_sms_hook(self.sms_conn_id)
            hook.require(Capability.MMS)
            ti = context.get("ti")
            if getattr(ti, "try_number", 1) > 1 and not _retry_safe(hook):
                raise AirflowFailException(
                    f"{hook.gateway} cannot tell what an earlier try already sent; not sending this MMS again, to "
                    "avoid texting anyone twice. Check the gateway's records and re-run with the missing recipients.")
            content = self._content()
            if content is not None:
                hook.check_mms_content(content)
            messages = self._messages(hook, str(self.mms_id or "0"))
            for message in messages:  # every recipient is checked before the first is sent
                hook.check_mms(message)
            mms_id = hook.save_mms(content) if content is not None else str(self.mms_id)
            messages, suppressed = self._drop_opted_out(hook, messages)
            self.log.info("sending MMS %s to %d recipients via %s", mms_id, len(messages), hook.gateway)
            result = self._send_all(hook, [replace(m, mms_id=mms_id) for m in messages], context)
            result.results.extend(suppressed)
        return self._finish(result, mms_id, context)

    def _check_options(self) -> None:
        """Read rendered mappings back and refuse wrong types, naming the argument (nothing sent)."""
        from airflow_provider_sms.exceptions import SmsValidationError
        from airflow_provider_sms.operators.inputs import mms_option_problems
        from airflow_provider_sms.sensors.base import load_xcom

        self.slides = load_xcom(self.slides, "slides")
        self.custom_texts = load_xcom(self.custom_texts, "custom_texts")
        self.merge_data = load_xcom(self.merge_data, "merge_data")
        problems = mms_option_problems(self)
        if problems:
            raise SmsValidationError(problems)

    def _drop_opted_out(self, hook: SmsHook,
                        messages: list[MmsMessage]) -> tuple[list[MmsMessage], list[RecipientResult]]:
        """Leave out the messages to opted-out numbers (only sends to numbers name them)."""
        from airflow_provider_sms.operators.opt_outs import drop_opted_out
        from airflow_provider_sms.operators.send import DEFAULT_JOURNAL_CONN_ID

        if not self.honour_opt_outs or self.to is None:
            return messages, []
        by_number = {m.numbers[0]: m for m in messages}
        keep, suppressed = drop_opted_out(list(by_number), conn_id=DEFAULT_JOURNAL_CONN_ID, gateway=hook.gateway)
        return [by_number[n] for n in keep], suppressed

    def _send_all(self, hook: SmsHook, messages: Sequence[MmsMessage], context: Context) -> SendResult:
        from airflow_provider_sms.core.results import RecipientResult, SendResult
        from airflow_provider_sms.exceptions import SmsAmbiguousError, SmsConfigurationError, SmsError

        total = SendResult(gateway=hook.gateway)
        in_doubt: list[str] = []
        for message in messages:
            try:
                total.extend(hook.send_mms(message))
            except SmsConfigurationError as error:
                self._push(context, total)
                raise AirflowFailException(f"{error} ({len(total.accepted)} recipients got the MMS before it)") \
                    from error
            except SmsAmbiguousError as error:
                in_doubt.extend(error.recipients_in_doubt or message.recipients)
                self.log.error("%s", error)
            except SmsError as error:
                code = str(error.code) if error.code is not None else None
                total.results.extend(RecipientResult(r, accepted=False, code=code, text=str(error))
                                     for r in message.recipients)
        if in_doubt:
            self._push(context, total)
            raise AirflowFailException(f"{len(in_doubt)} recipients may or may not have got the MMS (the gateway's "
                                       f"answer was lost): {', '.join(in_doubt[:20])}; not retried, to avoid sending "
                                       "twice")
        return total

    def _push(self, context: Context, result: SendResult) -> None:
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="send_result", value=result.to_dict())

    def _finish(self, result: SendResult, mms_id: str, context: Context) -> dict[str, Any]:
        from airflow_provider_sms.operators.send import rejection_text

        data = {**result.to_dict(), "mms_id": mms_id}
        rejected = result.rejected
        self.log.info("MMS %s: %d accepted, %d rejected, %d suppressed (opted out)", mms_id, data["accepted_count"],
                      len(rejected), data["suppressed_count"])
        if rejected and not self.allow_partial_failure:
            self._push(context, result)
            sample = ", ".join(f"{r.recipient} ({r.text})" for r in rejected[:10])
            total = len(result.results) - data["suppressed_count"]
            raise AirflowFailException(rejection_text(len(rejected), total, sample))
        return data
