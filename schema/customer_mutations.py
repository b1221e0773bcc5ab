"""Mutations of the customer domain: ``upsertCustomer`` and ``logInteraction``."""

from __future__ import annotations

import strawberry

from resolvers import mutations
from resolvers.analytics import iso
from schema.inputs import CustomerInput, InteractionInput, record_data
from schema.types import Ctx, Customer, Interaction


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="create or update a customer (only given fields change)")
    async def upsert_customer(self, info: Ctx, input: CustomerInput) -> Customer:
        customer_id = await mutations.upsert_customer(
            info.context.store, record_data(input), iso(info.context.now)
        )
        loaders = info.context.loaders
        loaders.forget_customer(customer_id)
        row = await loaders.customer.load(customer_id)
        assert row is not None  # just written
        return Customer.from_row(row)

    @strawberry.mutation(description="record a call, chat, complaint... for a customer")
    async def log_interaction(self, info: Ctx, input: InteractionInput) -> Interaction:
        row = await mutations.log_interaction(
            info.context.store, record_data(input), iso(info.context.now)
        )
        return Interaction.from_row(row["customerId"], row)


__all__ = ["CustomerMutation"]
