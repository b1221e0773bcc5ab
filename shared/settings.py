"""Every knob of the hub, read once from the environment (prefix ``C360_``)."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="C360_", extra="ignore")

    data_dir: Path = Path(".c360")
    host: str = "127.0.0.1"
    port: int = 8000

    # Graph: empty means the embedded FalkorDB inside data_dir.
    graph_url: str = ""
    graph_user: str = "neo4j"
    graph_password: str = ""
    graph_database: str = "neo4j"
    graph_name: str = "c360"
    graph_pool_size: int = 16
    # The lifespan waits this long for the graph before the hub listens anyway ("loading").
    graph_start_grace_s: float = 2.0

    # Privacy
    opa_url: str = ""
    policy_timeout_s: float = 2.0
    jwt_algorithm: str = "HS256"
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: float = 5.0  # clock skew allowed on exp/nbf/iat, seconds
    # Longest lifetime a verified token may have left (exp - now), seconds: 24 h.
    jwt_max_lifetime_s: float = 86_400.0
    introspection: bool = False
    graphiql: bool = True
    audit_keys: str = ""  # "kid:base64key,kid2:..." overrides the data-dir key ring
    # Four eyes: a policy change is proposed by one privacy officer, approved by another.
    policy_two_person: bool = True
    # Signed audit checkpoints (privacy/audit_checkpoints.py): the Ed25519 key's file (empty:
    # keys/audit-signing.key in the data dir), and how often the hub signs one.
    audit_signing_key: str = ""
    audit_checkpoint_every: int = 100  # records
    audit_checkpoint_interval_s: float = 60.0
    audit_witness_url: str = ""  # each checkpoint is POSTed here as JSON when set
    # Erasure ledger mirrors (privacy/erasure_ledger.py): comma-separated files outside the
    # data dir and its backups; `c360 restore` erases their customers again.
    erasure_ledger: str = ""

    # GraphQL limits
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 30
    max_page_size: int = 100
    # Estimated values one operation may resolve (see schema/extensions/shape.py).
    max_cost: int = 50_000
    # Customers a search decides access for (all of them, so totals count only visible rows).
    search_candidate_cap: int = 20_000
    max_body_bytes: int = 1_000_000
    request_timeout_s: float = 15.0
    # Slow clients (hub/http_protocol.py): seconds to send a request's headers; connections
    # served at once (0: derived from the open-file limit); idle keep-alive seconds.
    header_timeout_s: float = 10.0
    max_connections: int = 0
    keep_alive_s: int = 5
    # Persisted queries (hub/persisted.py): the allow-list file, and whether only it runs.
    persisted_queries: Path | None = None
    persisted_queries_only: bool = False

    # Customer analytics
    segment_high_assets: float = 1_000_000.0
    segment_middle_assets: float = 100_000.0
    # Analytics as of the end of this day (UTC) instead of now: a historical book (a 1990s
    # export) reads as it stood then, not as decades idle.
    as_of: date | None = None

    # Social listening
    x_bearer_token: str = ""
    x_api_base: str = "https://api.x.com"
    webhook_secret: str = ""
    terms: Path | None = None
    # "default" (the bundled model), "snownlp" (the baseline) or a file from `sentiment train`
    sentiment_model: str = "default"
    sentiment_positive: float = 0.6
    sentiment_negative: float = 0.4
    alert_z: float = 2.0
    alert_window: int = 7
    # Brand alerts: a seasonal baseline (day of week / hour of day) of this many days before
    # each bucket; no alert until this much history exists; buckets under the volume are quiet.
    alert_baseline_days: int = 28
    alert_min_baseline_days: int = 14
    alert_min_volume: int = 20
    alert_threshold_z: float = 3.0
    # Signs outbound alert webhooks (deliverAlerts); unset: nothing is sent.
    alert_webhook_secret: str = ""
    # Stored alert rules are evaluated this often (seconds; 0: only after ingest batches) over
    # the last alert_eval_days days, and after each ingest batch over the days it touched.
    alert_eval_s: float = 300.0
    alert_eval_days: int = 2
    # Subscriptions: batches a subscriber may fall behind before it is dropped; operations
    # one websocket may run at once; seconds a socket may wait before connection_init.
    subscription_queue: int = 64
    # While a process has subscribers it reads the posts and alerts other processes (`c360
    # ingest`, other workers) stored, this often (seconds; 0: its own events only).
    live_poll_s: float = 2.0
    max_subscriptions_per_connection: int = 10
    ws_init_timeout_s: float = 10.0
    # Trend and alert buckets are days / hours of this zone (IANA name).
    timezone: str = "Asia/Shanghai"

    demo: bool = Field(default=False, description="seed demo data on start if the graph is empty")

    @property
    def graph_options(self) -> dict[str, Any]:
        """Keyword arguments of graph.connect.open_store / store_session beyond dir and URL."""
        return {
            "graph_name": self.graph_name,
            "pool_size": self.graph_pool_size,
            "user": self.graph_user,
            "password": self.graph_password,
            "database": self.graph_database,
        }

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path


__all__ = ["Settings"]
