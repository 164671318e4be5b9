"""Layer 4 — the pipeline core: the operator registry, the template library and versions, the compiler
(template + recipe → Pipeline), the executor with its step cache and contexts, and result.json. May import
engine.core, engine.schema, the rank-2 libraries and engine.store. Built-in operators are found by package name
(plugin discovery, like entry points), never imported from here."""
