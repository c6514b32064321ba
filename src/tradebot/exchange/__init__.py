"""exchange component."""
