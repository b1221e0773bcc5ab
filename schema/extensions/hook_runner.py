"""Schema extensions' lifecycle hooks found once per extension class, not per request.

strawberry builds, for every operation and each of its four stages (operation, parsing,
validation, execution), a context manager that asks every extension instance for its hook:
``inspect.isgeneratorfunction`` / ``isasyncgenfunction`` on the class attribute, then a new
``contextlib.contextmanager`` wrapper (``functools.update_wrapper`` included) around a new bound
method: 32 look-ups and 7 wrappers per request for the hub's 8 extensions, ~15 µs of the event
loop's CPU per request. A hook is a class attribute, so what it is and its wrapper are the
same for every instance: :class:`CachedHooksRunner` keeps them per (class, stage) and hands the
instance to the cached wrapper. Entering and leaving the hooks is strawberry's own code
(``ExtensionContextManagerBase.__enter__``/``__aenter__`` and their exits), so their order,
exception handling and results are unchanged; a hook that is a plain function or coroutine
function (not a generator) is wrapped by strawberry as before.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# (wrapper taking the instance, is_async), or None: no hook at this stage; absent: not a
# generator (strawberry wraps it per request, as before).
_Found = tuple[Callable[[SchemaExtension], Any], bool] | None
_found: dict[tuple[type, str], _Found] = {}
_UNCACHED: Any = object()


def _hook_of(cls: type, stage: str) -> _Found | Any:
    key = (cls, stage)
    try:
        return _found[key]
    except KeyError:
        pass
    hook = getattr(cls, stage)
    if hook is getattr(SchemaExtension, stage):
        found: _Found | Any = None
    elif inspect.isgeneratorfunction(hook):
        found = (contextlib.contextmanager(hook), False)
    elif inspect.isasyncgenfunction(hook):
        found = (contextlib.asynccontextmanager(hook), True)
    else:
        found = _UNCACHED
    _found[key] = found
    return found


class _CachedHooks(ExtensionContextManagerBase):
    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.hooks: list[WrappedHook] = []
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        for extension in extensions:
            found = _hook_of(type(extension), self.HOOK_NAME)
            if found is None:
                continue
            if found is _UNCACHED:
                wrapped = self.get_hook(extension)
                if wrapped is not None:
                    self.hooks.append(wrapped)
                continue
            make, is_async = found
            # Called with no arguments by __enter__/__aenter__: the same generator context
            # manager contextmanager(MethodType(hook, extension))() would give.
            self.hooks.append(WrappedHook(extension, partial(make, extension), is_async))


class _Operation(_CachedHooks, OperationContextManager):
    pass


class _Parsing(_CachedHooks, ParsingContextManager):
    pass


class _Validation(_CachedHooks, ValidationContextManager):
    pass


class _Executing(_CachedHooks, ExecutingContextManager):
    pass


class CachedHooksRunner(SchemaExtensionsRunner):
    """strawberry's runner with the hooks found per class (see the module)."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


__all__ = ["CachedHooksRunner"]
