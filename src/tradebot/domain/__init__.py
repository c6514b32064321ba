"""Value types every component shares. Pure: imports nothing but the standard library."""
