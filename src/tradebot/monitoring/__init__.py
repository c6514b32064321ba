"""monitoring component."""
