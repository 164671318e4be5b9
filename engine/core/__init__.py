"""Layer 0 — foundations: errors and bilingual messages, configuration, YAML with source positions, dtypes,
the safe expression language, frame helpers. Imports nothing from the rest of the engine."""
