"""Sensors that wait on gateway state: message delivery, background sends."""
