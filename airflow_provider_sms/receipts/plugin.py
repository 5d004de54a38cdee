"""The Airflow API-server plugin that mounts the callback receiver at ``/sms-callbacks``.

Registered through the ``airflow.plugins`` entry point (``pyproject.toml``): provider-info
plugins are loaded only with ``[core] lazy_discover_providers = False``. Airflow puts no
authentication on plugin apps; the receiver checks each connection's callback secret itself.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_sms.receipts.receiver import PREFIX, create_app

__all__ = ["SmsReceiptsPlugin"]


class SmsReceiptsPlugin(AirflowPlugin):
    """Delivery receipts and replies from the SMS gateways (see ``docs/receipts.md``)."""

    name = "sms_receipts"
    fastapi_apps = [{"app": create_app(), "url_prefix": PREFIX, "name": "SMS delivery receipts and replies"}]
