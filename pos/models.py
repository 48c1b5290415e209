"""pos models."""
