"""NetMessenger (FastSMS, UK), sans-I/O: every action of the HTTP API, built and parsed.

:class:`NetMessengerApi` builds :class:`~airflow_provider_sms.gateways.http.HttpRequest` objects
(always a form POST with the ``Token`` in the form and ``ShowErrorMessage=1``) and parses
:class:`~airflow_provider_sms.gateways.http.HttpResponse` objects (or streamed CSV lines) into the
shared model (:mod:`airflow_provider_sms.core.results`), the small shapes of :mod:`.models` and the
error tree (:mod:`airflow_provider_sms.exceptions`). Code and status tables are in :mod:`.codes`;
CSV reading and contact-upload writing in :mod:`.csvio`.
"""

from airflow_provider_sms.gateways.netmessenger.api import (
    DEFAULT_BASE_PATH,
    DEFAULT_CANCEL_ACTION,
    DEFAULT_TIME_ZONE,
    GATEWAY,
    NetMessengerApi,
    parse_group,
)
from airflow_provider_sms.gateways.netmessenger.codes import (
    ERROR_CODES,
    MESSAGE_STATUSES,
    BackgroundSendNotFinished,
    ErrorCode,
    ImportOutcome,
    error_code,
    message_status,
)
from airflow_provider_sms.gateways.netmessenger.csvio import CONTACT_COLUMNS, build_contacts_csv, iter_report_rows
from airflow_provider_sms.gateways.netmessenger.models import (
    BackgroundMessage,
    BackgroundSendMessages,
    ChildUser,
    ImportLine,
    ImportResult,
    ReportType,
    SendItem,
)

__all__ = [
    "CONTACT_COLUMNS",
    "DEFAULT_BASE_PATH",
    "DEFAULT_CANCEL_ACTION",
    "DEFAULT_TIME_ZONE",
    "ERROR_CODES",
    "GATEWAY",
    "MESSAGE_STATUSES",
    "BackgroundMessage",
    "BackgroundSendMessages",
    "BackgroundSendNotFinished",
    "ChildUser",
    "ErrorCode",
    "ImportLine",
    "ImportOutcome",
    "ImportResult",
    "NetMessengerApi",
    "ReportType",
    "SendItem",
    "build_contacts_csv",
    "error_code",
    "iter_report_rows",
    "message_status",
    "parse_group",
]
