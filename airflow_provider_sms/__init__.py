"""Apache Airflow provider for direct SMS gateways (Bulletin Messenger, BulkSMS, NetMessenger, Skycore)."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
