"""Layer 6 — services behind the facade: workspaces and demo data, background runs, trials, template authoring,
recipes, role guesses, derived tables, docs, migrations. May import every lower layer (core, schema, ml, optim,
sim, report, store, pipeline, operators); never engine.api or an interface (CLI, server, UI)."""
