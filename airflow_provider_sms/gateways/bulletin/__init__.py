"""Bulletin Messenger (New Zealand), sans-I/O: sends, polling queues, the sent list, callbacks.

:class:`BulletinApi` builds requests and reads answers (:mod:`.api`); status codes are in
:mod:`.codes`; callback bodies (XMLv3 and FORMv1) are read by :mod:`.callbacks`.
"""

from airflow_provider_sms.gateways.bulletin.api import (
    ADDRESS_BOOK_PREFIXES,
    DEFAULT_REPLY_CALLBACK_PARAM,
    DEFAULT_STATUS_CALLBACK_PARAM,
    GATEWAY,
    SENT_REPORT_HEADER,
    BulletinApi,
    iter_json_array,
    message_id_for,
    wire_name,
)
from airflow_provider_sms.gateways.bulletin.callbacks import (
    detect_format,
    parse_reply_callback,
    parse_status_callback,
)
from airflow_provider_sms.gateways.bulletin.codes import STATUS_CODES, StatusCode, delivery_status
from airflow_provider_sms.gateways.bulletin.models import InboundReply, SentItem, SentMessage, StatusUpdate

__all__ = [
    "ADDRESS_BOOK_PREFIXES",
    "DEFAULT_REPLY_CALLBACK_PARAM",
    "DEFAULT_STATUS_CALLBACK_PARAM",
    "GATEWAY",
    "SENT_REPORT_HEADER",
    "STATUS_CODES",
    "BulletinApi",
    "InboundReply",
    "SentItem",
    "SentMessage",
    "StatusCode",
    "StatusUpdate",
    "delivery_status",
    "detect_format",
    "iter_json_array",
    "message_id_for",
    "parse_reply_callback",
    "parse_status_callback",
    "wire_name",
]
