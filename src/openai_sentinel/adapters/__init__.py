"""Adapters: the only modules that know the OpenAI client's types.

Each adapter reads request keyword arguments, response objects and stream chunks of
one API family and fills a neutral :class:`~openai_sentinel.exchange.Exchange`.
"""
