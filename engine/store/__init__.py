"""Layer 3 — the data factory: the DuckDB catalog, ingest of files, data bindings, table profiles and the
run records. May import engine.core and engine.schema (and the rank-2 libraries); never the pipeline, operators,
services, the facade or the CLI."""
