"""``openai-sentinel demo``: the whole pipeline on one machine, with or without an API key."""

from .run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
