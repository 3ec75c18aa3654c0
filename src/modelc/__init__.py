"""modelc: a concise language for warehouse models, compiled to SQL for five engines."""

__version__ = "0.1.0"
