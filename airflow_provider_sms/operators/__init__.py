"""Generic SMS operators: the hook for the connection's type does the gateway-specific work."""
