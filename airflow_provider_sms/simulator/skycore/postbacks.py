"""Skycore postbacks: XML POSTed to the account's postback URL, one by one, on the virtual clock.

As the vendor describes it (seed 003): the receiver must answer HTTP 200 within 10 seconds;
on a timeout or any other status the notification is tried again about five minutes later, at
most 5 times. Here "five minutes" are virtual: ``clock.advance(300)`` brings the retry due, and
the simulator's tick delivers it (the shared :mod:`airflow_provider_sms.simulator.callbacks` queue).
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from airflow_provider_sms.simulator.callbacks import RetryRule
from airflow_provider_sms.simulator.config import SimulatorConfig

__all__ = ["postback_rule", "postback_xml"]


def postback_xml(origin: str, code: str, fields: Mapping[str, str], *, generation: str, notification_id: int,
                 created: str) -> bytes:
    """One notification in the current flat ``<POSTBACK>`` form or the older ``<NOTIFICATION><BODY>`` one."""
    if generation == "notification":
        root = etree.Element("NOTIFICATION", ID=str(notification_id), CREATED=created)
        etree.SubElement(root, "ORIGIN").text = origin
        etree.SubElement(root, "CODE").text = code
        body = etree.SubElement(root, "BODY")
        for name, value in fields.items():
            if name == "STATUS":  # the old form carries status as attributes
                etree.SubElement(body, "STATUS", PROTOCOL="4", STATUS="0", TEXT=value)
            else:
                etree.SubElement(body, name).text = value
    else:
        root = etree.Element("POSTBACK")
        etree.SubElement(root, "ORIGIN").text = origin
        etree.SubElement(root, "CODE").text = code
        for name, value in fields.items():
            etree.SubElement(root, name).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def postback_rule(config: SimulatorConfig) -> RetryRule:
    """HTTP 200 within ``skycore_postback_timeout`` seconds; else again after ``skycore_postback_retry``
    virtual seconds, at most ``skycore_postback_max_retries`` times (vendor: 10 s, ~5 minutes, 5)."""
    return RetryRule(delays=(config.skycore_postback_retry,) * config.skycore_postback_max_retries,
                     timeout=config.skycore_postback_timeout)
