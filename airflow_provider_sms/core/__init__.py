"""Gateway-independent model: recipients, message text, results and statuses. No Airflow imports."""
