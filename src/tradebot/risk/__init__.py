"""RISK CONTROLLER: sizing, stops and targets, pre-trade checks, kill switch."""
