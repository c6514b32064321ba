"""data component."""
