"""The HTTP library the installed ``openai`` client is built on, as ``http``.

openai 3.x sends its requests with ``httpx2``; openai 1.x and 2.x with ``httpx``. Mock
transports, clients, requests, responses and transport errors handed to the client must
come from the same library, so tests write ``http.Response(...)``,
``http.Client(transport=http.MockTransport(handler))``, ``http.ReadTimeout(...)``, and
run unchanged on every supported major version.

(Not named ``http.py``: ``abandon_during_collection.py`` runs as a script from this
folder, where such a file would hide the standard library's ``http`` package.)
"""

from __future__ import annotations

import openai

__all__ = ["OPENAI_MAJOR", "http"]

OPENAI_MAJOR = int(openai.__version__.split(".", 1)[0])
"""The installed client's major version (1, 2 or 3)."""

if OPENAI_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http
