"""Re-export: the record models moved to ``shared.records`` (the bottom layer that ingest
and resolvers both import); kept so imports of ``ingest.records`` keep working."""

from shared.records import (
    DATE_FIELDS,
    MONEY_FIELDS,
    TIME_FIELDS,
    AccountRecord,
    AdvisorRecord,
    CustomerRecord,
    HoldingRecord,
    HouseholdRecord,
    ImportRecord,
    InteractionRecord,
    TransactionRecord,
    read_amount,
    validation_reasons,
)

__all__ = [
    "DATE_FIELDS",
    "MONEY_FIELDS",
    "TIME_FIELDS",
    "AccountRecord",
    "AdvisorRecord",
    "CustomerRecord",
    "HoldingRecord",
    "HouseholdRecord",
    "ImportRecord",
    "InteractionRecord",
    "TransactionRecord",
    "read_amount",
    "validation_reasons",
]
