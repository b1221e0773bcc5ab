"""Re-export: the value checks moved to ``shared.validators`` (the bottom layer that ingest
and resolvers both import); kept so imports of ``ingest.validators`` keep working."""

from shared.validators import (
    FUTURE_SLACK,
    SHANGHAI,
    birth_date_from_cn_id,
    check_birth_date,
    check_cn_id,
    cn_id_checksum,
    normalize_phone,
    to_iso_date,
    to_utc_iso,
)

__all__ = [
    "FUTURE_SLACK",
    "SHANGHAI",
    "birth_date_from_cn_id",
    "check_birth_date",
    "check_cn_id",
    "cn_id_checksum",
    "normalize_phone",
    "to_iso_date",
    "to_utc_iso",
]
