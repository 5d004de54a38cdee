"""Notifiers: text someone when a task or DAG run fails (or on any other callback)."""
