"""Hooks: one per gateway, all sharing :class:`airflow_provider_sms.hooks.base.SmsHook`."""
