"""Simulated NetMessenger (FastSMS) HTTP API.

Actions are in :mod:`.api`, account state in :mod:`.state`, routes in :mod:`.gateway`.
"""
