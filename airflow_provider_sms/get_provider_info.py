"""Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``).

Kept free of imports beyond the pure connection-form declarations: Airflow calls it in every
process that discovers providers.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_sms.connection_forms import CONNECTION_FORMS

_INTEGRATIONS = {
    "BulkSMS": "https://www.bulksms.com/developer/",
    "NetMessenger (FastSMS)": "https://www.fastsms.co.uk/",
    "Skycore": "https://www.skycore.com/help/skycore-http-v1-3/",
    "Bulletin Messenger": "https://www.bulletin.net/",
}
_OPERATORS = ["send", "mms", "reports", "credits", "contacts", "address_book", "accounts"]
_SENSORS = ["message_status", "background_send"]
_TRIGGERS = ["message_status", "background_send"]


def _modules(integration: str, package: str, names: list[str]) -> dict[str, Any]:
    return {"integration-name": integration, "python-modules": [f"airflow_provider_sms.{package}.{n}" for n in names]}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its connection types and its modules."""
    generic = "SMS gateways"
    return {
        "package-name": "airflow-provider-sms",
        "name": "SMS gateways",
        "description": "Send SMS (and MMS), wait for delivery, import contacts and pull reports through "
        "Bulletin Messenger, BulkSMS, NetMessenger (FastSMS) and Skycore.",
        "integrations": [
            {"integration-name": generic, "tags": ["service"]},
            *({"integration-name": name, "external-doc-url": url, "tags": ["service"]}
              for name, url in _INTEGRATIONS.items()),
        ],
        "hooks": [
            {"integration-name": "BulkSMS", "python-modules": ["airflow_provider_sms.hooks.bulksms"]},
            {"integration-name": "NetMessenger (FastSMS)",
             "python-modules": ["airflow_provider_sms.hooks.netmessenger"]},
            {"integration-name": "Skycore", "python-modules": ["airflow_provider_sms.hooks.skycore"]},
            {"integration-name": "Bulletin Messenger", "python-modules": ["airflow_provider_sms.hooks.bulletin"]},
        ],
        "operators": [_modules(generic, "operators", _OPERATORS)],
        "sensors": [_modules(generic, "sensors", _SENSORS)],
        "triggers": [_modules(generic, "triggers", _TRIGGERS)],
        "notifications": ["airflow_provider_sms.notifications.sms.SmsNotifier"],
        "connection-types": [form.provider_info() for form in CONNECTION_FORMS.values()],
        # Airflow 3.3+: `airflow sms callback-url <conn_id>` (older versions: the sms-callback-url script).
        "cli": ["airflow_provider_sms.receipts.urls.get_cli_commands"],
    }
