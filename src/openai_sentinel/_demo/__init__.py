"""``openai-sentinel demo``: the whole pipeline on one machine, with or without an API key:
a day of traffic (``day``), the short tour (``run``) or the drift scenario (``drift``)."""

from .run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
