"""The privacy services the app's lifespan opens: policy engine, policy admin, audit log and
the masking key. An engine that fails to load is kept as the reason, not raised: the hub still
starts and every request touching personal data answers POLICY_UNAVAILABLE (fail closed)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING

from graph.fieldcipher import attach_cipher, cipher_of
from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.audit_checkpoints import Checkpointer, load_signing_key
from privacy.datakeys import DataKeyStore
from privacy.erasure_ledger import ErasureLedger, LedgerError
from privacy.erasure_upgrade import mark_ledger_erasures
from privacy.fieldcrypt import FieldCrypto
from privacy.keyprovider import LocalKeyFileProvider
from privacy.keyring import KeyRing, KeyRingError
from privacy.policy_set import override_dir
from privacy.secrets import load_or_create_secret
from privacy.types import PolicyUnavailable
from shared.settings import Settings

if TYPE_CHECKING:
    from privacy.services import PrivacyServices

log = logging.getLogger("c360.hub")

MASK_KEY_NAME = "mask-hmac"
BLIND_KEY_NAME = "blind-index"
NAME_TOKEN_KEY_NAME = "name-tokens"

_crypto: dict[str, FieldCrypto] = {}
# Data dirs whose key store this process listed the ledger's erasures in (or found the
# ledger unreadable for).
_listed: set[str] = set()


def field_crypto(settings: Settings, *, upgrade: bool = True) -> FieldCrypto:
    """The process's field encryption service for the data dir (one key store connection).
    The first with ``upgrade`` lists the erasure ledger's erasures in the key store once
    (mark_ledger_erasures); not ``upgrade`` (an import's dry run, which writes nothing in
    the data dir) leaves that to the next open that writes."""
    data_dir = settings.resolved_data_dir
    found = _crypto.get(str(data_dir))
    if found is None:
        keys = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
        # Not made anew over sealed data: the indexes written with the lost ones match nothing.
        found = FieldCrypto(
            keys,
            blind_key=load_or_create_secret(data_dir, BLIND_KEY_NAME, in_use=keys.in_use),
            name_key=load_or_create_secret(data_dir, NAME_TOKEN_KEY_NAME, in_use=keys.in_use),
        )
        _crypto[str(data_dir)] = found
    if upgrade and str(data_dir) not in _listed:
        try:
            mark_ledger_erasures(found.keys, ErasureLedger.of(settings))
        except LedgerError as exc:
            log.warning(
                "the erasure ledger cannot be read to list its erasures as destroyed in the "
                "data key store (%s): tried again at the next start",
                exc,
            )
        # Only once listed (or the ledger found unreadable, said above): any other failure (the
        # key store locked) goes up, and the caller's next open tries again rather than serve
        # without the listing.
        _listed.add(str(data_dir))
    return found


def check_keys(settings: Settings) -> None:
    """Load every key the hub needs, making those of a new data dir: KeyFileError (one
    sentence naming the file) when one is lost or damaged. ``c360 serve`` asks before it
    starts anything, so a damaged key stops it (exit 2) instead of a hub failing requests."""
    data_dir = settings.resolved_data_dir
    field_crypto(settings)  # master keys, data key store, blind-index and name-token keys
    load_or_create_secret(data_dir, MASK_KEY_NAME)
    if not (settings.jwt_public_key_file or settings.jwt_jwks_file):
        load_or_create_secret(data_dir, "jwt")  # HS256 (privacy.principal.TokenVerifier)


def protect_store(store: GraphStore, settings: Settings, *, upgrade: bool = True) -> GraphStore:
    """Hand the store the field encryption service (the repositories seal and open through
    it; they never see a key). A store that already has one keeps it. ``upgrade``: see
    :func:`field_crypto`."""
    if not isinstance(cipher_of(store), FieldCrypto):
        attach_cipher(store, field_crypto(settings, upgrade=upgrade))
    return store


async def open_privacy(settings: Settings) -> PrivacyServices:
    # Imported here, not at the top: the CLI's bulk commands (import, ingest, seed) load this
    # module for protect_store only, and the engines (OPA client, aiohttp) take ~0.5 s to load.
    from privacy.engines import OpaServerEngine, load_engine
    from privacy.policy_admin import PolicyAdmin
    from privacy.policy_invariants import InvariantResult, run_invariants
    from privacy.services import PrivacyServices

    data_dir = settings.resolved_data_dir
    services = PrivacyServices(
        engine=None, audit=None, hmac_key=load_or_create_secret(data_dir, MASK_KEY_NAME)
    )
    try:
        ring = KeyRing.load(data_dir, settings.audit_keys)
        audit = AuditLog(data_dir / "audit", ring)
        audit.check_keys()
        services.audit = audit
    except KeyRingError as exc:
        log.error("audit log unavailable: %s", exc)
    try:
        engine = load_engine(settings)
    except (PolicyUnavailable, ValueError, OSError) as exc:
        services.engine_error = f"the policy engine is not available: {exc}"
        # Clients see a generic POLICY_UNAVAILABLE; the operator gets the compiler's output
        # (module, line, column) or what is wrong with the data (file and key), the data dir's
        # override files it came from, and what to do.
        overridden = sorted(
            str(p) for p in override_dir(data_dir).glob("*") if p.suffix in (".rego", ".json")
        )
        log.error(
            "%s; %s",
            services.engine_error,
            f"data-dir policy files: {overridden} (fix or remove the override, then restart: "
            "the packaged policy is used without it)"
            if overridden
            # No override to blame (QA, session 26: it said to fix one that did not exist).
            else "no data-dir policy override is in use: fix what the error names, then restart",
        )
        return services
    # Overrides in the data dir are what approvePolicy writes, but a file edited by hand skips
    # it: the invariants run on them at start too, and a set that breaks one is not served.
    overrides = override_dir(data_dir)
    if overrides.is_dir() and any(overrides.iterdir()):
        try:
            broken = [r for r in await run_invariants(engine.policy_set) if not r.ok]
        except Exception as exc:  # a set the invariants cannot check is not served either
            broken = [InvariantResult("invariants", False, f"{type(exc).__name__}: {exc}")]
        if broken:
            services.engine_error = (
                f"the data dir's policy overrides break {broken[0].name} "
                f"({broken[0].message}); fix or remove them"
            )
            log.error("%s", services.engine_error)
            return services
    if isinstance(engine, OpaServerEngine):
        try:
            await engine.start()
        except PolicyUnavailable as exc:
            # Decisions push the policies again first, so the hub recovers once OPA is up.
            log.warning("%s; will retry on the first decision", exc)
    if not isinstance(engine, OpaServerEngine):
        # Embedded policies change only by a reload, whose new revision empties the cache:
        # nothing to expire, and no evaluation (with its native allocations) every 30 s for
        # each kept answer. An OPA server may be fed behind the hub's back: 30 s there.
        services.decision_cache.ttl_s = math.inf
    services.engine = engine
    services.admin = PolicyAdmin(
        engine,
        data_dir,
        two_person=settings.policy_two_person,
        test_timeout_s=settings.policy_test_timeout_s,
        test_memory_mb=settings.policy_test_memory_mb,
    )
    return services


def checkpointer(settings: Settings, keyring: KeyRing | None = None) -> Checkpointer | None:
    """The audit checkpoint signer, or None (logged) when its key cannot be loaded; with the
    audit ``keyring`` it also checks each new record's encryption before signing over it."""
    data_dir = settings.resolved_data_dir
    try:
        key = load_signing_key(data_dir, settings.audit_signing_key)
    except (OSError, ValueError) as exc:
        log.error("audit checkpoints off: %s", exc)
        return None
    return Checkpointer(
        data_dir / "audit" / "audit.log",
        key,
        every=settings.audit_checkpoint_every,
        interval_s=settings.audit_checkpoint_interval_s,
        witness_url=settings.audit_witness_url,
        keyring=keyring,
    )


async def sign_checkpoints(signer: Checkpointer, poll_s: float = 2.0) -> None:
    """Runs for the app's life; on cancel, signs what came since the last checkpoint. A
    failure (audit dir unwritable, ...) is logged and tried again at the next poll: the audit
    log itself fails its requests closed. The first look is at once, so a log that does not
    extend its last checkpoint is an ERROR in the hub's log as it starts."""

    async def tick(now: float) -> None:
        try:
            await asyncio.to_thread(signer.tick, now)
        except Exception as exc:
            log.error("audit checkpoint not signed: %s", exc)

    try:
        while True:
            await tick(time.monotonic())
            await asyncio.sleep(poll_s)
    except asyncio.CancelledError:
        await asyncio.shield(tick(math.inf))
        raise


async def close_privacy(services: PrivacyServices) -> None:
    try:
        if services.engine is not None:
            await services.engine.close()
    finally:
        if isinstance(services.audit, AuditLog):
            # The writer's last batch is written and indexed before the process may exit.
            await asyncio.to_thread(services.audit.close)


__all__ = [
    "MASK_KEY_NAME",
    "check_keys",
    "checkpointer",
    "close_privacy",
    "field_crypto",
    "open_privacy",
    "protect_store",
    "sign_checkpoints",
]
