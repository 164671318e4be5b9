"""Modelling helpers shared by operators (no registry, no I/O)."""
