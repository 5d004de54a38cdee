"""Simulated BulkSMS: EAPI (:mod:`.eapi`) and JSON API v1 (:mod:`.json_api`) on one account state.

Routes are in :mod:`.gateway`, the state in :mod:`.state`.
"""
