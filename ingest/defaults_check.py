"""A mapping's ``[defaults]`` judged once, when the mapping is checked: a value its kind's model
refuses (``riskProfile = "超激进"``) refuses the mapping with one sentence, where every row of
the file was a dead letter with the same reason (QA, session 26)."""

from __future__ import annotations

from pydantic import ValidationError

from ingest.kinds import ImportKind
from ingest.mapping import ColumnMapping, MappingError
from shared.echo import echo
from shared.records import DATE_FIELDS, MONEY_FIELDS, TIME_FIELDS, validation_reasons


def check_defaults(spec: ImportKind, mapping: ColumnMapping) -> None:
    """Raise MappingError naming each ``[defaults]`` value ``spec``'s model refuses. Not a
    date, time or amount when the mapping reads those its own way ([source] formats, zone,
    decimal mark): the value is read so before the model sees it, as a row's would be."""
    custom = mapping.source.custom
    judged = {
        name: value
        for name, value in mapping.defaults.items()
        if not (custom and name in DATE_FIELDS | TIME_FIELDS | MONEY_FIELDS)
    }
    if not judged:
        return
    try:
        spec.model.model_validate(judged)
        return
    except ValidationError as exc:
        reasons = validation_reasons(exc)
    bad = {r: field for r in reasons if (field := r.split(":", 1)[0]) in judged}
    if bad:
        named = dict.fromkeys(bad.values())  # each field once, in the reasons' order
        shown = ", ".join(f"{name} = {echo(judged[name])!r}" for name in named)
        raise MappingError(
            f"{mapping.name}: [defaults] {shown} cannot be imported ({'; '.join(bad)}); "
            "correct the value in the mapping"
        )


__all__ = ["check_defaults"]
