"""Shared test helpers (guest images, SSH, consoles)."""
