"""Sales models."""
