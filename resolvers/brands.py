"""The brands a brand argument may name: those of the terms file ingest tags posts with
(``C360_TERMS``, or the default terms), each under its name, its aliases and their traditional
spellings, as the tagger reads them.

Posts are tagged with a brand's name only (招行 in a post tags it 招商银行), so a filter, share
of voice, alert rule or subscription given an alias or a traditional spelling used to match
nothing and answer zero, as did a name no terms file knows. Every brand argument goes through
:meth:`BrandNames.canonical`: an alias is read as its brand, anything else is BAD_USER_INPUT.
The hub builds the table from the terms (resolvers may not read ingest's terms file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from resolvers.errors import BadUserInput


class BrandNames:
    def __init__(self, names: Sequence[str], named: Callable[[str], str | None]) -> None:
        """``names``: the brands (the terms file's ``[brands]``); ``named``: the brand a name
        names, as the tagger reads it (ingest.social.terms.TermMatcher.named)."""
        self.names = list(names)
        self.known = named

    def canonical(self, name: str, field: str) -> str:
        """The brand ``name`` names; BAD_USER_INPUT (listing the brands) when it names none."""
        found = self.known(name)
        if found is None:
            raise BadUserInput(
                f"{name} is neither a brand posts are tagged with nor an alias of one; the "
                f"brands are {', '.join(self.names)} (the terms file, C360_TERMS)",
                field=field,
                brands=self.names,
            )
        return found

    def canonical_or_none(self, name: str | None, field: str) -> str | None:
        """:meth:`canonical` of an optional argument."""
        return None if name is None else self.canonical(name, field)


__all__ = ["BrandNames"]
