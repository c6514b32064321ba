"""state component."""
