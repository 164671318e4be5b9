"""AI Studio engine: headless core (templates, recipes, compiler, executor, data factory)."""

__version__ = "0.1.0"
