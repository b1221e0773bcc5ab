"""Mutations of the customer domain: ``upsertCustomer`` and ``logInteraction``."""

from __future__ import annotations

import strawberry

from resolvers import mutations
from resolvers.analytics import iso
from resolvers.privacy import require_customer_write
from schema.inputs import CustomerInput, InteractionInput, record_data
from schema.types import Ctx, Customer, Interaction, load_customer


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="create or update a customer (only given fields change)")
    async def upsert_customer(self, info: Ctx, input: CustomerInput) -> Customer:
        data = record_data(input)
        privacy = info.context.privacy
        await require_customer_write(privacy, str(data.get("id", "")), data, info.context.store)
        mutations.refuse_erased(info.context.settings, str(data.get("id", "")))
        if twin := await mutations.case_twin(info.context.store, str(data.get("id", ""))):
            raise mutations.refuse_case_twin(twin, await mutations.readable(privacy, twin))
        customer_id = await mutations.upsert_customer(
            info.context.store, data, iso(info.context.now)
        )
        info.context.loaders.forget_customer(customer_id)
        privacy.forget(customer_id)
        customer = await load_customer(info, customer_id)
        assert customer is not None  # just written
        return customer

    @strawberry.mutation(description="record a call, chat, complaint... for a customer")
    async def log_interaction(self, info: Ctx, input: InteractionInput) -> Interaction:
        data = record_data(input)
        await require_customer_write(info.context.privacy, str(data.get("customerId", "")))
        row = await mutations.log_interaction(
            info.context.privacy, info.context.store, data, iso(info.context.now)
        )
        return Interaction.from_row(row["customerId"], row)


__all__ = ["CustomerMutation"]
