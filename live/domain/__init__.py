"""Pure state and rules: no I/O, no framework imports."""
