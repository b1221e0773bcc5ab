"""Masking where each personal field resolves: a FieldExtension on every ``@sensitive`` field.

The governing resource is the source object's ``customer_id`` (a Customer decision, loaded in
batches per request) or its ``policy_resource`` (given by the type, e.g. a Post). The value is
masked with ``decision.mode_for(kind)`` and the field is noted revealed or masked for the audit.
Derived fields (``derived``) are shown only when the source kind's mode is one of ``allow``.
Every request has a privacy layer (the bench's allow-all one included): no decision, no value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.info import Info
from strawberry.utils.str_converters import to_camel_case

from privacy.masking import OWN_KINDS, QUOTED_KINDS, apply_mask, mask_quoted
from privacy.types import Decision, MaskMode

SENSITIVE_METADATA_KEY = "sensitive"
DERIVED_METADATA_KEY = "sensitive_derived"


class MaskField(FieldExtension):
    """``allow`` None: mask with the mode; else a derived value, shown only for those modes."""

    def __init__(
        self,
        kind: str,
        allow: tuple[str, ...] | None = None,
        mask: Callable[[Any, str, str, bytes], Any] = apply_mask,
    ) -> None:
        self.kind = str(kind)
        self.allow = allow
        self.mask = mask

    def shown(
        self, privacy: Any, field_name: str, value: Any, decision: Decision | None, source: Any
    ) -> Any:
        """``value`` as ``decision`` shows it (no decision: redacted), noted for the audit
        under ``field_name`` in the request's ``privacy`` (resolvers.privacy.RequestPrivacy)."""
        mode = decision.mode_for(self.kind) if decision is not None else MaskMode.REDACT
        if self.allow is not None:
            shown = mode in self.allow
            privacy.record(source, field_name, MaskMode.REVEAL if shown else mode)
            return value if shown else None
        privacy.record(source, field_name, mode)
        return self.mask(value, mode, self.kind, privacy.hmac_key)

    def _apply(self, value: Any, decision: Decision | None, source: Any, info: Info) -> Any:
        return self.shown(info.context.privacy, info.field_name, value, decision, source)

    async def _later(self, value: Any, source: Any, info: Info) -> Any:
        if isinstance(value, Awaitable):
            value = await value
        return self._apply(value, await info.context.privacy.governing(source), source, info)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        privacy = info.context.privacy
        decision = privacy.cached(source)
        if decision is None:
            # graphql-core awaits what a resolver returns, sync field or not.
            return self._later(value, source, info)
        return self._apply(value, decision, source, info)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        value = await next_(source, info, **kwargs)
        privacy = info.context.privacy
        decision = privacy.cached(source) or await privacy.governing(source)
        return self._apply(value, decision, source, info)


def derived(kind: str, allow: tuple[str, ...], **kwargs: Any) -> Any:
    """``strawberry.field`` for a value computed from a personal field: null unless the
    source kind's mode is one of ``allow`` (usable as a decorator for resolvers)."""
    return strawberry.field(
        metadata={DERIVED_METADATA_KEY: (kind, allow)},
        extensions=[MaskField(kind, allow)],
        **kwargs,
    )


class QuotingField(MaskField):
    """Free text quoting personal values of several kinds (a post quoting @handles, phone
    numbers, e-mail addresses, card numbers): each masked with the decision's mode for its
    kind. ``own``: the bank's text about the customer governing it (an interaction's summary,
    a transaction's booking text), whose own name and address are masked too where the
    decision masks those fields (privacy.masking.mask_quoted ``own``, the values the request
    loaded with the decision: RequestPrivacy.own). Not a post: public text its author
    wrote, shown under Customer.mentions as in the brand feed. Audited as revealed only when
    every kind is revealed."""

    def __init__(self, own: bool = False) -> None:
        super().__init__(QUOTED_KINDS[0])
        self.own = own

    def shown(
        self, privacy: Any, field_name: str, value: Any, decision: Decision | None, source: Any
    ) -> Any:
        modes = {
            kind: decision.mode_for(kind) if decision is not None else MaskMode.REDACT
            for kind in (*QUOTED_KINDS, *OWN_KINDS)
        }
        customer_id = getattr(source, "customer_id", None) if self.own else None
        own = None
        if isinstance(customer_id, str) and any(modes[k] != MaskMode.REVEAL for k in OWN_KINDS):
            own = privacy.own.get(customer_id)
            if own is None and isinstance(value, str):
                # Not loaded with the decision (the resolvers load it: Customer.interactions):
                # the note is not shown rather than shown with the customer's name.
                privacy.record(source, field_name, MaskMode.REDACT)
                return None
        else:
            modes = {kind: modes[kind] for kind in QUOTED_KINDS}
        names = co_owner_names(privacy, source, value) if self.own else []
        if names is None:
            # A co-owner not decided on (the resolver decides them: Customer.transactions).
            privacy.record(source, field_name, MaskMode.REDACT)
            return None
        revealed = all(mode == MaskMode.REVEAL for mode in modes.values()) and all(
            mode == MaskMode.REVEAL for _, mode in names
        )
        privacy.record(source, field_name, MaskMode.REVEAL if revealed else MaskMode.REDACT)
        return mask_quoted(value, modes, privacy.hmac_key, own, names)


def co_owner_names(privacy: Any, source: Any, value: Any) -> list[tuple[str, str]] | None:
    """(name, mode) of the co-owners of the account a booking text is on
    (``source.co_owner_ids``) that it names: each as the caller sees that co-owner's NAME
    (Account.coOwners), redacted for one the caller may not see; None when one was not
    decided on in this request (nothing to check the text against)."""
    ids = getattr(source, "co_owner_ids", ())
    if not ids or not isinstance(value, str):
        return []
    out: list[tuple[str, str]] = []
    for cid in ids:
        if cid not in privacy.own:
            return None
        name = privacy.own[cid].get("NAME")
        if not isinstance(name, str) or name.strip() not in value:
            continue
        decision = privacy.decided.get(cid)
        if decision is not None and decision.allow:
            privacy.customers_touched.add(cid)
            out.append((name, decision.mode_for("NAME")))
        else:
            out.append((name, MaskMode.REDACT))
    return out


def quoting(own: bool = False, **kwargs: Any) -> Any:
    """``strawberry.field`` for free text that may quote personal values (a post's text):
    the quotes are masked like the fields of their kinds would be (privacy.masking.QUOTED_KINDS);
    ``own``: a note about its customer, their name and address too (QuotingField)."""
    return strawberry.field(extensions=[QuotingField(own)], **kwargs)


def personal_fields(
    definition: StrawberryObjectDefinition,
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(GraphQL name, kind, modes that show it) of the type's personal and derived fields."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for f in definition.fields:
        meta: Mapping[str, Any] = f.metadata or {}
        if SENSITIVE_METADATA_KEY in meta:
            kind, allow = str(meta[SENSITIVE_METADATA_KEY]), (MaskMode.REVEAL,)
        elif DERIVED_METADATA_KEY in meta:
            kind, allow = meta[DERIVED_METADATA_KEY]
        else:
            continue
        out.append((f.graphql_name or to_camel_case(f.python_name), str(kind), tuple(allow)))
    return out


def masked_names(definition: StrawberryObjectDefinition, decision: Decision | None) -> list[str]:
    """GraphQL names of the type's personal and derived fields this decision does not reveal."""
    return sorted(
        name
        for name, kind, allow in personal_fields(definition)
        if (decision.mode_for(kind) if decision is not None else MaskMode.REDACT) not in allow
    )


__all__ = [
    "DERIVED_METADATA_KEY",
    "SENSITIVE_METADATA_KEY",
    "MaskField",
    "QuotingField",
    "co_owner_names",
    "derived",
    "masked_names",
    "personal_fields",
    "quoting",
]
