"""sandbox component."""
