"""Every knob of the hub, read once from the environment (prefix ``C360_``)."""

from __future__ import annotations

import base64
import binascii
import os
import re
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.as_of import as_of_error
from shared.datadir import DIR_MODE, tighten_data_dir
from shared.dataformat import (
    FORMAT_FILE,
    UPGRADES,
    FormatError,
    UpgradeFailed,
    check_format,
    write_format,
)
from shared.echo import echo
from shared.service_urls import graph_url_problem, opa_url_problem

# Customers one audit record names at most (~55 bytes each: ~0.55 MB of plaintext): a request
# that names more (a campaign's audience) is recorded over several records, one chain entry
# each, so no record grows with the book (privacy/services.py, PrivacyServices.append_audit).
AUDIT_CUSTOMERS_PER_RECORD = 10_000


class Settings(BaseSettings):
    # No "inf" or "nan" for any number: an infinite timeout is no timeout at all.
    model_config = SettingsConfigDict(env_prefix="C360_", extra="ignore", allow_inf_nan=False)

    data_dir: Path = Path(".c360")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # Graph: empty means the embedded FalkorDB inside data_dir.
    graph_url: str = ""
    graph_user: str = "neo4j"
    graph_password: str = ""
    graph_database: str = "neo4j"
    graph_name: str = "c360"
    graph_pool_size: int = Field(default=16, ge=1)
    # The lifespan waits this long for the graph before the hub listens anyway ("loading").
    graph_start_grace_s: float = Field(default=2.0, ge=0)

    # Privacy
    opa_url: str = ""
    policy_timeout_s: float = Field(default=2.0, gt=0)
    jwt_algorithm: str = "HS256"
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: float = Field(default=5.0, ge=0)  # clock skew allowed on exp/nbf/iat, seconds
    # Longest lifetime a verified token may have left (exp - now), seconds: 24 h.
    jwt_max_lifetime_s: float = Field(default=86_400.0, gt=0)
    introspection: bool = False
    graphiql: bool = True
    audit_keys: str = ""  # "kid:base64key,kid2:..." overrides the data-dir key ring
    # Four eyes: a policy change is proposed by one privacy officer, approved by another.
    policy_two_person: bool = True
    # A proposed policy's tests and invariants run in a child process (privacy/policy_check.py):
    # stopped after this many seconds, and this many MiB of memory above regopy's own (0: none).
    policy_test_timeout_s: float = Field(default=20.0, gt=0)
    policy_test_memory_mb: int = Field(default=1024, ge=0)
    # Signed audit checkpoints (privacy/audit_checkpoints.py): the Ed25519 key's file (empty:
    # keys/audit-signing.key in the data dir), and how often the hub signs one.
    audit_signing_key: str = ""
    audit_checkpoint_every: int = Field(default=100, ge=1)  # records
    audit_checkpoint_interval_s: float = Field(default=60.0, gt=0)
    audit_witness_url: str = ""  # each checkpoint is POSTed here as JSON when set
    audit_customers_per_record: int = Field(default=AUDIT_CUSTOMERS_PER_RECORD, ge=1)
    # Erasure ledger mirrors (privacy/erasure_ledger.py): comma-separated files outside the
    # data dir and its backups; `c360 restore` erases their customers again.
    erasure_ledger: str = ""
    # How long an erasure approval's claim holds unrenewed, seconds (privacy/erasure.py: the
    # running erasure renews it every third; a claim whose holder died runs out after it).
    erasure_claim_lease_s: float = Field(default=900.0, ge=1)

    # GraphQL limits
    max_depth: int = Field(default=10, ge=1)
    max_tokens: int = Field(default=2000, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_page_size: int = Field(default=100, ge=1)
    # Seconds a sealed cursor (customers by NAME / TOTAL_ASSETS) keeps opening: an hour
    # covers a person paging through a list, and bounds how long a cursor copied into a URL
    # or a log, or held by a caller whose grant was narrowed, stays usable; at most a day.
    cursor_ttl_s: int = Field(default=3600, ge=1, le=86_400)
    # Estimated values one operation may resolve (see schema/extensions/shape.py).
    max_cost: int = Field(default=50_000, ge=1)
    # Customers a search decides access for (all of them, so totals count only visible rows).
    search_candidate_cap: int = Field(default=20_000, ge=1)
    # Candidates one search may read in all (its batches together); above it the search is
    # refused (SEARCH_TOO_BROAD: narrow it), never answered with a count cut short.
    search_max_candidates: int = Field(default=200_000, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    request_timeout_s: float = Field(default=15.0, gt=0)
    # Slow clients (hub/http_protocol.py): seconds to send a request's headers; connections
    # served at once (0: derived from the open-file limit); idle keep-alive seconds.
    header_timeout_s: float = Field(default=10.0, gt=0)
    # Bytes a request's line and headers may take together; more is answered 431.
    max_header_bytes: int = Field(default=65_536, ge=1_024)
    max_connections: int = Field(default=0, ge=0)
    # Bytes a second a request body must keep up after its first header_timeout_s: slower is
    # answered 408, and the slowest body goes first at the connection cap.
    min_body_rate: int = Field(default=1_000, ge=1)
    keep_alive_s: int = Field(default=5, ge=1)
    # Requests per token subject (hub/rate_limit.py): sustained per second (0: no limit) and
    # the burst a subject may send at once (0: two seconds' worth). Per hub process.
    rate_limit_per_s: float = Field(default=0.0, ge=0)
    rate_limit_burst: int = Field(default=0, ge=0)
    # Persisted queries (hub/persisted.py): the allow-list file, and whether only it runs.
    persisted_queries: Path | None = None
    persisted_queries_only: bool = False

    # The product catalogue (insights/catalogue.py): this file, else <data dir>/catalogue.json
    # when present, else the packaged one. Read once per process; a bad file stops the start.
    catalogue: Path | None = None

    # Customer analytics
    segment_high_assets: float = Field(default=1_000_000.0, gt=0)
    segment_middle_assets: float = Field(default=100_000.0, gt=0)
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
    sentiment_positive: float = Field(default=0.6, ge=0, le=1)
    sentiment_negative: float = Field(default=0.4, ge=0, le=1)
    alert_z: float = Field(default=2.0, gt=0)
    alert_window: int = Field(default=7, ge=1)
    # Brand alerts: a seasonal baseline (day of week / hour of day) of this many days before
    # each bucket; no alert until this much history exists; buckets under the volume are quiet.
    alert_baseline_days: int = Field(default=28, ge=1)
    alert_min_baseline_days: int = Field(default=14, ge=1)
    alert_min_volume: int = Field(default=20, ge=0)
    alert_threshold_z: float = Field(default=3.0, gt=0)
    # Signs outbound alert webhooks (deliverAlerts); unset: nothing is sent.
    alert_webhook_secret: str = ""
    # Alert channels on internal addresses (loopback, private, link-local...) are refused
    # unless named here: comma-separated host names, addresses or networks (CIDR).
    alert_channel_allow: str = ""
    # Which rule may sign with which C360_ALERT_SECRET_<NAME> variable: comma-separated
    # <rule id>=<NAME> pairs, set by whoever sets the variables (a rule writer may not pick
    # another team's secret). Empty: no rule may use an env: secret.
    alert_env_secrets: str = ""
    # Stored alert rules are evaluated this often (seconds; 0: only after ingest batches) over
    # the last alert_eval_days days, and after each ingest batch over the days it touched.
    alert_eval_s: float = Field(default=300.0, ge=0)
    alert_eval_days: int = Field(default=2, ge=1)
    # Seconds the graph server may spend on one read of a background job (scheduled alert
    # runs): no request waits on them, so not C360_REQUEST_TIMEOUT_S (but never less than it);
    # 0 means no limit.
    job_timeout_s: float = Field(default=300.0, ge=0)
    # Subscriptions: batches a subscriber may fall behind before it is dropped; operations
    # one websocket may run at once; seconds a socket may wait before connection_init.
    subscription_queue: int = Field(default=64, ge=1)
    # While a process has subscribers it reads the posts and alerts other processes (`c360
    # ingest`, other workers) stored, this often (seconds; 0: its own events only).
    live_poll_s: float = Field(default=2.0, ge=0)
    max_subscriptions_per_connection: int = Field(default=10, ge=1)
    # Subscriptions one token subject may run at once in a process, over all its sockets.
    max_subscriptions_per_subject: int = Field(default=50, ge=1)
    ws_init_timeout_s: float = Field(default=10.0, gt=0)
    # Trend and alert buckets are days / hours of this zone (IANA name).
    timezone: str = "Asia/Shanghai"

    demo: bool = Field(default=False, description="seed demo data on start if the graph is empty")
    # The demo book's day (hub/demo.py reads it as it is imported): an ISO date, checked here
    # with the rest, so a bad one stops `serve --demo` and `seed` before they start.
    demo_as_of: date | None = None

    @field_validator("as_of")
    @classmethod
    def _computable_day(cls, value: date | None) -> date | None:
        # 0001-01-01 or 9999-12-31 overflowed the activity windows: every request failed.
        if value is not None and (error := as_of_error(value, datetime.now(UTC).date())):
            raise ValueError(f"C360_AS_OF {error}")
        return value

    @field_validator("graph_url", "opa_url")
    @classmethod
    def _service_url(cls, value: str, info: ValidationInfo) -> str:
        # Here, not only when first used: a hub that could never be ready started and stayed up.
        check = graph_url_problem if info.field_name == "graph_url" else opa_url_problem
        if problem := check(value):
            raise ValueError(problem)
        return value

    @field_validator("demo_as_of", mode="before")
    @classmethod
    def _demo_day(cls, value: object) -> object:
        # demo_day, as hub/demo.py reads it, not pydantic's wider date parsing.
        return demo_day(value) if isinstance(value, str) else value

    @field_validator("catalogue", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # C360_CATALOGUE= (empty) means unset, not the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("alert_env_secrets")
    @classmethod
    def _env_secret_pairs(cls, value: str) -> str:
        env_secret_grants(value)  # raises, naming the bad pair
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        return value

    @model_validator(mode="after")
    def _audit_keys(self) -> Settings:
        # Here, not as a field validator: a field's error quotes its value, a secret key here.
        problem = audit_keys_problem(self.audit_keys)
        if problem:
            raise ValueError(f"C360_AUDIT_KEYS: {problem}")
        return self

    @model_validator(mode="after")
    def _ordered(self) -> Settings:
        if self.segment_middle_assets >= self.segment_high_assets:
            raise ValueError("C360_SEGMENT_MIDDLE_ASSETS must be below C360_SEGMENT_HIGH_ASSETS")
        if self.sentiment_negative >= self.sentiment_positive:
            raise ValueError("C360_SENTIMENT_NEGATIVE must be below C360_SENTIMENT_POSITIVE")
        if self.alert_min_baseline_days > self.alert_baseline_days:
            raise ValueError(
                "C360_ALERT_MIN_BASELINE_DAYS must be at most C360_ALERT_BASELINE_DAYS"
            )
        return self

    @cached_property
    def alert_env_secret_grants(self) -> frozenset[tuple[str, str]]:
        """(rule id, NAME) pairs of C360_ALERT_ENV_SECRETS: rule id may sign with
        C360_ALERT_SECRET_<NAME>."""
        return env_secret_grants(self.alert_env_secrets)

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

    @property
    def data_dir_path(self) -> Path:
        """The data dir's absolute path, nothing made or checked (an import's dry run reads
        the erasure ledger there and leaves a data dir that is not there unmade)."""
        return self.data_dir.expanduser().resolve()

    @cached_property
    def readable_data_dir(self) -> Path:
        """The data dir for commands that only read it (``audit verify``, ``doctor`` without
        ``--repair``): it must exist and be readable, not writable, and nothing in it is
        created or changed, so a read-only forensic copy can be checked as it is."""
        path = self.data_dir_path
        if not path.is_dir():
            raise DataDirError(
                f"the data dir {path} does not exist: set C360_DATA_DIR to the hub's data dir"
            )
        if not os.access(path, os.R_OK | os.X_OK):
            raise DataDirError(
                f"the data dir {path} is not readable by this user: run as its owner, or set "
                "C360_DATA_DIR to a readable copy"
            )
        try:
            check_format(path)  # a newer c360's dir is not this version's to read either
        except FormatError as exc:
            raise DataDirError(str(exc)) from None
        return path

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir_path
        try:
            path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        except OSError as exc:
            raise DataDirError(
                f"the data dir {path} cannot be used ({exc.strerror or exc}): set "
                "C360_DATA_DIR to a directory this user may write"
            ) from None
        if not os.access(path, os.W_OK | os.X_OK):  # a read-only mount says so here too
            raise DataDirError(
                f"the data dir {path} is not writable (keys, the audit log and the graph live "
                "there): set C360_DATA_DIR to a directory this user may write"
            )
        try:
            # Before anything is changed: an older c360 must not touch a newer one's dir.
            check_format(path)
        except FormatError as exc:
            raise DataDirError(str(exc)) from None
        # Whoever opens the data dir first (any `c360` command, the hub, a library caller)
        # leaves it owner-only: an older version, or a command run under umask 022, left the
        # dir, the graph's files and the checkpoints readable by every local user.
        try:
            tighten_data_dir(path)
        except OSError as exc:
            raise DataDirError(
                f"the data dir {path} cannot be made owner-only ({exc.strerror or exc}: "
                f"{exc.filename}): make this user own it and everything in it, or set "
                "C360_DATA_DIR to a directory of its own"
            ) from None
        self._upgrade(path)
        return path

    def _upgrade(self, path: Path) -> None:
        """The one-time upgrades of a dir an older version wrote (shared.dataformat.UPGRADES:
        erasures done before the erasure ledger go into it), then the format marker."""
        for upgrade in UPGRADES:
            try:
                upgrade(path, self)
            except UpgradeFailed as exc:
                raise DataDirError(str(exc)) from None
        try:
            write_format(path)
        except OSError as exc:
            raise DataDirError(
                f"the data dir's format marker {path / FORMAT_FILE} cannot be written "
                f"({exc.strerror or exc}): make the data dir writable by this user"
            ) from None


# A rule id (resolvers/alert_rules.py) and a variable's NAME (resolvers/alert_secrets.py).
_GRANT = re.compile(r"^([A-Za-z0-9_.:-]{1,64})=([A-Z0-9_]{1,64})$")


def env_secret_grants(text: str) -> frozenset[tuple[str, str]]:
    """C360_ALERT_ENV_SECRETS as (rule id, NAME) pairs; ValueError naming a bad pair."""
    grants: set[tuple[str, str]] = set()
    for item in text.split(","):
        if not item.strip():
            continue
        found = _GRANT.match(item.strip())
        if found is None:
            raise ValueError(
                f"C360_ALERT_ENV_SECRETS: {echo(item.strip())!r} is not <rule id>=<NAME> (the "
                "rule's id, and NAME of its variable C360_ALERT_SECRET_<NAME>: A-Z, 0-9, _); "
                "pairs are comma-separated"
            )
        grants.add((found.group(1), found.group(2)))
    return frozenset(grants)


def audit_keys_problem(text: str) -> str | None:
    """What is wrong with C360_AUDIT_KEYS ("kid:base64key,..."; empty: the data dir's key
    ring), naming the entry by position only: the text is key material. The hub would
    otherwise start and answer AUDIT_UNAVAILABLE to every request (privacy/keyring.py reads
    the same format)."""
    if not text.strip():
        return None
    for n, item in enumerate(text.split(","), 1):
        kid, sep, b64 = item.strip().partition(":")
        try:
            size = len(base64.b64decode(b64, validate=True))
        except binascii.Error:
            size = -1
        if not sep or not kid or size != 32:
            return (
                f"entry {n} is not kid:<base64 of 32 bytes> (e.g. k2:$(openssl rand -base64 "
                "32)); entries are comma-separated, the first is the active key"
            )
    return None


class DataDirError(ValueError):
    """The data dir cannot be created or used: one sentence for a person."""


def demo_day(value: str) -> date | None:
    """C360_DEMO_AS_OF read (empty: unset): the one parse of it, for the settings check and
    the demo module, which reads it as it loads; ValueError saying what to give."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a day as YYYY-MM-DD, e.g. 2026-11-30") from None
    if error := as_of_error(day, datetime.now(UTC).date()):
        raise ValueError(error)
    return day


__all__ = ["DataDirError", "Settings", "demo_day", "env_secret_grants"]
