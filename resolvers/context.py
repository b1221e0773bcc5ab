"""The per-request context every resolver gets as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from graph.errors import GraphUnavailable
from graph.store import GraphStore
from insights.catalogue import Catalogue, configured_catalogue
from privacy.services import PrivacyServices
from privacy.types import Principal
from resolvers.analytics import end_of_day
from resolvers.brands import BrandNames
from resolvers.errors import BadUserInput
from resolvers.loaders import Loaders
from resolvers.nba import NbaLoaders
from resolvers.privacy import RequestPrivacy
from resolvers.social import SocialLoaders
from shared.as_of import as_of_error
from shared.settings import Settings


@dataclass
class RequestContext:
    """Settings, the store (None while the graph is unreachable), who is asking, and the
    request's loaders. Two clocks, each fixed once so a response agrees with itself:

    - ``now``: the real time of the request. Every write's time (an interaction, a consent's
      evidence, a campaign contact, a completed task), every "not in the future" check and
      audit time reads it; ``C360_AS_OF`` never moves it.
    - ``analytics_now``: what derived figures are computed as of (lifecycle, churn risk, age
      band, days to birthday, recommendations, care tasks): the end of ``C360_AS_OF``'s day
      when it is set, else ``now``."""

    settings: Settings
    store_or_none: GraphStore | None
    principal: Principal | None
    request_id: str
    privacy_services: PrivacyServices
    brands: BrandNames  # what a brand argument may name (the terms ingest tags posts with)
    graph_error: str = "the graph is not connected"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    analytics_now: datetime = field(init=False)
    _loaders_at: dict[datetime, Loaders] = field(default_factory=dict, repr=False)
    # A subscription batch whose audit record could not be written (sent as AUDIT_UNAVAILABLE
    # without data): its subscription ends after it (schema/extensions/subscription_audit.py).
    audit_failed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        as_of = self.settings.as_of  # C360_AS_OF: the figures' day, never the writes'
        self.analytics_now = self.now if as_of is None else end_of_day(as_of)

    def moment(self, as_of: date | None) -> datetime:
        """The instant an ``asOf`` argument means (the end of that day), default
        ``analytics_now``; BadUserInput for a day the figures cannot be computed as of
        (analytics.as_of_error)."""
        if as_of is None:
            return self.analytics_now
        if (error := as_of_error(as_of, self.now.date())) is not None:
            raise BadUserInput(f"asOf {error}", field="asOf")
        return end_of_day(as_of)

    def loaders_at(self, moment: datetime) -> Loaders:
        """Loaders whose activity windows end at ``moment`` (``loaders`` when it is
        ``analytics_now``)."""
        if moment == self.analytics_now:
            return self.loaders
        if moment not in self._loaders_at:
            self._loaders_at[moment] = Loaders(self.store, moment)
        return self._loaders_at[moment]

    def release(self) -> None:
        """Let go of what the request loaded once its response is built (hub/app.py calls it).

        A request's objects reference each other (the privacy state's customer loader calls
        back into this context; graphql-core's execution context keeps it too), so left alone
        its rows, pages and decisions wait for a full garbage collection, which a busy hub runs
        every few thousand requests. Dropped here, they go by reference counting at once:
        pymalloc keeps the arenas a peak of waiting requests made it grow, and that peak was
        the hub's RSS growth under load (docs/benchmarks.md "Memory")."""
        privacy = self.__dict__.pop("privacy", None)
        if isinstance(privacy, RequestPrivacy):
            privacy.release()
        for name in ("loaders", "nba", "social_loaders"):
            self.__dict__.pop(name, None)
        self._loaders_at.clear()

    @property
    def store(self) -> GraphStore:
        if self.store_or_none is None:
            raise GraphUnavailable(self.graph_error)
        return self.store_or_none

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.store, self.analytics_now)

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue file the settings name, read once per process (the hub checked it
        before it started: create_app)."""
        return configured_catalogue(self.settings.resolved_data_dir, self.settings.catalogue)

    @cached_property
    def nba(self) -> NbaLoaders:
        return NbaLoaders(self.store, self.analytics_now)

    @cached_property
    def social_loaders(self) -> SocialLoaders:
        return SocialLoaders(self.store)

    @cached_property
    def privacy(self) -> RequestPrivacy:
        return RequestPrivacy(
            self.privacy_services,
            self.principal,
            lambda ids: self.loaders.customer.load_many(ids),
            self.request_id,
            self.settings.audit_customers_per_record,
        )


__all__ = ["RequestContext"]
