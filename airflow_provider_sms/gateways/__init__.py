"""Sans-I/O gateway protocols: build requests, parse answers, map codes. No network, no Airflow."""
