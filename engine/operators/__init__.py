"""Built-in operators, one family per module. Importing a module registers its operators."""
