"""Layer 8 — the command line (`python -m engine ...`). Calls engine.api only (plus engine.core for messages)."""
