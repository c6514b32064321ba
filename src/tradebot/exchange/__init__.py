"""EXCHANGE CONNECTOR: the port, the CCXT adapter, the simulated exchange."""
