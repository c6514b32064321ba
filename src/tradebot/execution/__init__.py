"""EXECUTION ENGINE: order router (order lifecycle) and position manager."""
