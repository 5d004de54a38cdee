"""Triggers that wait on gateways from the triggerer, with async HTTP over the same protocol code."""
