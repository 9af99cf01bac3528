"""Analyzers: provider-neutral functions over an :class:`~openai_sentinel.exchange.Exchange`.

They know neither the OpenAI client nor OpenTelemetry.
"""
