"""Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``).

Kept free of imports beyond the pure connection-form declarations: Airflow calls it in every
process that discovers providers.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_sms.connection_forms import CONNECTION_FORMS


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its connection types and its modules."""
    gateways = [
        {"integration-name": "BulkSMS", "external-doc-url": "https://www.bulksms.com/developer/", "tags": ["service"]},
    ]
    return {
        "package-name": "airflow-provider-sms",
        "name": "SMS gateways",
        "description": "Send SMS, wait for delivery and pull reports through Bulletin Messenger, BulkSMS, "
        "NetMessenger (FastSMS) and Skycore.",
        "integrations": gateways,
        "hooks": [{"integration-name": "BulkSMS", "python-modules": ["airflow_provider_sms.hooks.bulksms"]}],
        "operators": [
            {
                "integration-name": "BulkSMS",
                "python-modules": [
                    "airflow_provider_sms.operators.send",
                    "airflow_provider_sms.operators.reports",
                    "airflow_provider_sms.operators.credits",
                ],
            }
        ],
        "sensors": [{"integration-name": "BulkSMS", "python-modules": ["airflow_provider_sms.sensors.message_status"]}],
        "triggers": [
            {"integration-name": "BulkSMS", "python-modules": ["airflow_provider_sms.triggers.message_status"]}
        ],
        "connection-types": [form.provider_info() for form in CONNECTION_FORMS.values()],
    }
