"""Built-in services, and the base classes for writing your own."""
