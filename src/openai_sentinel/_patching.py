"""Putting our wrappers on the client's classes so that they take effect, and stop, everywhere.

Two things make plain ``wrap_function_wrapper`` / ``unwrap`` fall short:

- ``with_raw_response`` and ``with_streaming_response`` are cached objects that bind
  ``create`` and ``parse`` when first read. :class:`CurrentMethod` makes their
  attributes follow whatever the resource's method is now, whenever they were made.
- Something may wrap a method after us. :meth:`WrapperPatch.remove` takes our wrapper
  out wherever it sits in a chain of proxies; where it cannot be reached, the wrapper
  stays but its telemetry is switched off, so it passes calls straight through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol

import wrapt

from ._errors import report_internal_error

__all__ = ["CurrentMethod", "Patch", "WrapperPatch"]

_PROXY_TYPES: Final = tuple(
    {getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy), wrapt.ObjectProxy}
)
_MISSING: Final = object()
_MAX_CHAIN: Final = 64
"""Wrappers looked through when taking ours out of a chain."""


class Patch(Protocol):
    """Something installed on a client class that can be taken off again."""

    def remove(self) -> None:
        """Undo the patch."""


class WrapperPatch:
    """Our ``wrapt.FunctionWrapper`` on ``owner.name``."""

    __slots__ = ("name", "owner", "wrapper")

    def __init__(self, owner: Any, name: str, wrapper: Callable[..., Any]) -> None:
        self.owner = owner
        self.name = name
        self.wrapper: Any = wrapt.wrap_function_wrapper(owner, name, wrapper)

    def remove(self) -> None:
        """Take our wrapper out of the chain on ``owner.name``, if it can be reached."""
        ours = self.wrapper
        current = vars(self.owner).get(self.name)
        if current is ours:
            setattr(self.owner, self.name, ours.__wrapped__)
            return
        node = current
        for _ in range(_MAX_CHAIN):
            if not isinstance(node, _PROXY_TYPES):
                return
            inner = node.__wrapped__
            if inner is ours:
                node.__wrapped__ = ours.__wrapped__
                return
            node = inner


class CurrentMethod:
    """A data descriptor for ``create`` / ``parse`` on a ``…WithRawResponse`` class.

    The client's ``__init__`` binds ``resource.create`` once; as a data descriptor this
    wins over that instance attribute and binds the resource's method at each access,
    so the cached object always calls what is installed now.
    """

    __slots__ = ("factory", "name", "original", "owner", "resource_attribute")

    def __init__(
        self,
        owner: type,
        name: str,
        factory: Callable[[Callable[..., Any]], Callable[..., Any]],
        resource_attribute: str,
    ) -> None:
        self.owner = owner
        self.name = name
        self.factory = factory
        self.resource_attribute = resource_attribute
        self.original = vars(owner).get(name, _MISSING)
        setattr(owner, name, self)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """The client's wrapper around the resource's current method (on failure, the one
        the instance's ``__init__`` bound). A method the client does not bind on this
        class (``parse`` on older clients) stays missing."""
        try:
            if instance is None:
                return self
            if self.name in vars(instance):
                resource = getattr(instance, self.resource_attribute)
                return self.factory(getattr(resource, self.name))
        except Exception:
            report_internal_error("patching")
            return vars(instance).get(self.name)
        raise AttributeError(self.name)

    def __set__(self, instance: Any, value: Any) -> None:
        """Keep what the client's ``__init__`` binds, as a plain attribute would."""
        try:
            instance.__dict__[self.name] = value
        except Exception:
            report_internal_error("patching")

    def remove(self) -> None:
        """Take the descriptor off; instances fall back to what their ``__init__`` bound."""
        if vars(self.owner).get(self.name) is not self:
            return
        if self.original is _MISSING:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.original)
