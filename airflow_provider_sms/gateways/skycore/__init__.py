"""Skycore HTTP/XML API v1 (1.3), sans-I/O: SMS, MMS, subscriber-reference and campaign sends,
subscriptions, sending statistics, child users, and postbacks of both XML generations.

:class:`SkycoreApi` builds :class:`~airflow_provider_sms.gateways.http.HttpRequest` objects (XML
bodies built with lxml) and parses answers with the hardened reader of
:mod:`airflow_provider_sms.gateways.xml`. The E-code and postback-code tables are in :mod:`.codes`,
the MMS slide limits in :mod:`.mms`, postback parsing in :mod:`.postbacks`.
"""

from airflow_provider_sms.gateways.skycore.api import (
    DEFAULT_API_PATH,
    DEFAULT_API_URL,
    DEFAULT_STATISTICS_ACTION,
    DEFAULT_TIME_ZONE,
    GATEWAY,
    STATISTICS_COLUMNS,
    SkycoreApi,
)
from airflow_provider_sms.gateways.skycore.codes import (
    ERROR_CODES,
    POSTBACK_CODES,
    ErrorCode,
    PostbackCode,
    error_code,
    postback_code,
)
from airflow_provider_sms.gateways.skycore.mms import MAX_SLIDE_SECONDS, MAX_SLIDE_TEXT, MAX_SLIDES, content_problems
from airflow_provider_sms.gateways.skycore.postbacks import Postback, SkycorePostbackError, parse_postback

__all__ = [
    "DEFAULT_API_PATH",
    "DEFAULT_API_URL",
    "DEFAULT_STATISTICS_ACTION",
    "DEFAULT_TIME_ZONE",
    "ERROR_CODES",
    "GATEWAY",
    "MAX_SLIDES",
    "MAX_SLIDE_SECONDS",
    "MAX_SLIDE_TEXT",
    "POSTBACK_CODES",
    "STATISTICS_COLUMNS",
    "ErrorCode",
    "Postback",
    "PostbackCode",
    "SkycoreApi",
    "SkycorePostbackError",
    "content_problems",
    "error_code",
    "parse_postback",
    "postback_code",
]
