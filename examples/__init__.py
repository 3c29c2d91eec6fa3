"""Example code that specs may name (``merge = "examples.merges:..."``)."""
