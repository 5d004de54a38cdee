"""The simulated Skycore gateway (XML API v1 1.3): SMS and MMS, campaigns and subscribers, postbacks."""
