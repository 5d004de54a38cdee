"""BulkSMS, sans-I/O: the legacy HTTP "EAPI" and the JSON REST API v1.

Both classes build :class:`~airflow_provider_sms.gateways.http.HttpRequest` objects and parse
:class:`~airflow_provider_sms.gateways.http.HttpResponse` objects into the shared model
(:mod:`airflow_provider_sms.core.results`) and the error tree
(:mod:`airflow_provider_sms.exceptions`). Code tables are in :mod:`.codes`.
"""

from airflow_provider_sms.gateways.bulksms.common import BulkSmsCredentials, StatusPage
from airflow_provider_sms.gateways.bulksms.eapi import BulkSmsEapi, InboundMessage, ReportRow
from airflow_provider_sms.gateways.bulksms.json_api import BulkSmsJsonApi

__all__ = ["BulkSmsCredentials", "BulkSmsEapi", "BulkSmsJsonApi", "InboundMessage", "ReportRow", "StatusPage"]
