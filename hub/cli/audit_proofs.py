"""`c360 audit checkpoint | prove | public-key` and the checkpoint half of `audit verify`:
signed Merkle checkpoints over the audit log (privacy/audit_checkpoints.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.cli.common import console, fail, load_settings
from privacy.audit_checkpoints import (
    Checkpoint,
    CheckpointLogError,
    CheckpointRefused,
    check_against,
    consistency,
    load_signing_key,
    make_checkpoint,
    prove,
    public_from_hex,
    public_hex,
)
from privacy.audit_status import count_lines
from privacy.keyring import KEYRING_FILE, KeyRing, KeyRingError


def _data_dir(read_only: bool) -> Path:
    settings = load_settings()
    return settings.readable_data_dir if read_only else settings.resolved_data_dir


def open_keyring(read_only: bool = False) -> KeyRing:
    """The audit key ring of the data dir (or C360_AUDIT_KEYS); never a new one.
    ``read_only``: nothing in the data dir is locked or changed (a read-only copy)."""
    settings = load_settings()
    data_dir = _data_dir(read_only)
    ring_file = data_dir / "keys" / KEYRING_FILE
    if not settings.audit_keys.strip() and not ring_file.is_file():
        # Loading would create a new ring, and a new key reads no existing record.
        fail(
            f"no audit key ring at {ring_file}: point C360_DATA_DIR at the hub's data dir "
            "(or set C360_AUDIT_KEYS); nothing was created"
        )
    try:
        if read_only:
            return KeyRing.read(data_dir, settings.audit_keys)
        return KeyRing.load(data_dir, settings.audit_keys)
    except KeyRingError as exc:
        fail(f"{exc}. Fix C360_AUDIT_KEYS or the key ring file.")


def _log_path(read_only: bool = False) -> Path:
    return _data_dir(read_only) / "audit" / "audit.log"


def _trusted_key(public_key: str | None, read_only: bool = False) -> Ed25519PublicKey:
    """The key a checkpoint must be signed with: given (hex, or a file holding it), else the
    public half of the configured signing key. Never the key written in the checkpoint."""
    if public_key:
        text = Path(public_key).read_text() if Path(public_key).is_file() else public_key
        try:
            return public_from_hex(text)
        except ValueError:
            fail("--public-key must be the 64 hex digits `c360 audit public-key` prints")
    settings = load_settings()
    try:
        return load_signing_key(_data_dir(read_only), settings.audit_signing_key).public_key()
    except (OSError, ValueError) as exc:
        fail(f"{exc}; give the checkpoint key with --public-key")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the checkpoint file {path}: {exc}")


def _checkpoint(path: Path) -> Checkpoint:
    try:
        return Checkpoint.parse(_read(path), str(path))
    except CheckpointLogError as exc:
        fail(str(exc))


def verify_checkpoint(
    path: Path,
    public_key: str | None,
    own_log: bool = False,
    read_only: bool = False,
    chain_ok: bool = True,
) -> bool:
    """Print and return whether the log extends the checkpoint in ``path`` (the last of a
    checkpoint log). A line that is not a checkpoint fails the check (``own_log``: the data
    dir's log, whose last line must also be whole, as the hub appends to it). ``chain_ok``:
    the log's own chain verified, so what the checkpoint shows is a loss `c360 audit
    reanchor` can acknowledge (it refuses a broken chain)."""
    try:
        cp = Checkpoint.parse(_read(path), str(path), whole_lines=own_log)
    except CheckpointLogError as exc:
        console.print(f"[red]BROKEN[/] checkpoint log: {exc}")
        return False
    result = check_against(_log_path(read_only), cp, _trusted_key(public_key, read_only))
    if result.ok:
        console.print(f"OK checkpoint: {result.reason}")
    else:
        console.print(f"[red]BROKEN[/] against checkpoint {path}: {result.reason}")
        if own_log and result.reason.startswith(("truncated", "rewritten")):
            console.print(_restore_hint(chain_ok))
    return result.ok


def _restore_hint(chain_ok: bool) -> str:
    """What to do about a log that does not extend its checkpoint: re-anchoring only when the
    chain holds (records cut from the end); a record changed or removed inside the log breaks
    the chain, and only a backup mends that."""
    if chain_ok:
        return (
            "restore audit/audit.log from a backup or copy; records lost for good: "
            "`c360 audit reanchor --reason ...` (a privacy officer)"
        )
    return (
        "restore audit/audit.log from a backup or copy: a record inside the log was changed "
        "or removed (BROKEN above), which `c360 audit reanchor` cannot acknowledge"
    )


def checkpoint() -> None:
    """Sign a checkpoint of the audit log now (appended to audit/checkpoints.jsonl), after
    the same checks as the hub's signer (the chain, GCM with the audit key ring)."""
    settings = load_settings()
    try:
        key = load_signing_key(settings.resolved_data_dir, settings.audit_signing_key)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    # With the key ring: a record re-hashed without the key fails its GCM check, so the
    # command refuses the log as the hub's signer does.
    ring = open_keyring()
    try:
        cp = make_checkpoint(_log_path(), key, ring)
    except CheckpointRefused as exc:
        fail(f"no checkpoint signed: {exc}", 1)
    print(json.dumps(cp.__dict__))


def public_key() -> None:
    """Print the checkpoint signing key's public half (hex): give it to whoever verifies."""
    settings = load_settings()
    try:
        key = load_signing_key(settings.resolved_data_dir, settings.audit_signing_key)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    print(public_hex(key.public_key()))


def prove_cmd(
    seq: Annotated[
        int | None, typer.Option(min=1, help="an inclusion proof of this record (from 1)")
    ] = None,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="against this checkpoint (default: the latest)"),
    ] = None,
    consistency_: Annotated[
        tuple[int, int] | None,
        typer.Option("--consistency", help="OLD NEW: the first OLD records are a prefix"),
    ] = None,
) -> None:
    """Print a proof as JSON (formats: README, checked by bench/verify_audit_proof.py)."""
    log_path = _log_path()
    if consistency_ is not None:
        try:
            print(json.dumps(consistency(log_path, *consistency_), indent=1))
        except ValueError as exc:
            fail(str(exc))
        return
    if seq is None:
        fail("give --seq N or --consistency OLD NEW")
    records = count_lines(log_path)
    if seq > records:
        # No checkpoint can cover it: a newer one would not help.
        fail(f"there is no record {seq}: the audit log at {log_path} has {records} records")
    path = checkpoint_file or log_path.parent / "checkpoints.jsonl"
    if not path.is_file():
        fail(f"no checkpoint at {path}; sign one with `c360 audit checkpoint`")
    try:
        print(json.dumps(prove(log_path, seq, _checkpoint(path)), indent=1))
    except ValueError as exc:
        fail(f"{exc}; sign a newer checkpoint with `c360 audit checkpoint`")
