"""execution component."""
