"""The project's own load generator and benchmark report (see docs/PERFORMANCE.md)."""
