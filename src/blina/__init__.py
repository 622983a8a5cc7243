"""blina: blinatumomab therapy made safe and easy to run."""

__version__ = "0.1.0"
