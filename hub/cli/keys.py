"""`c360 keys status | rotate-master`: the keys that protect personal data at rest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from graph.errors import GraphError
from hub.backup import master_key_lock
from hub.cli.common import console, err_console, fail, graph, load_settings, run
from hub.cli.subject_common import audit_log, closing, intent
from privacy.audit_checkpoints import load_signing_key, public_hex
from privacy.datakeys import DataKeyStore
from privacy.erasure_ledger import ErasureLedger, LedgerError, erased_owners
from privacy.fieldcrypt import FIELDS
from privacy.keyprovider import KeyProviderError, LocalKeyFileProvider
from privacy.keyring import KeyRing, KeyRingError

ROTATE, RESEAL = "cli keys rotate-master", "cli keys reseal"

app = typer.Typer(no_args_is_help=True, help="Master, data, audit and checkpoint keys.")


def _stores() -> tuple[LocalKeyFileProvider, DataKeyStore]:
    data_dir = load_settings().resolved_data_dir
    try:
        provider = LocalKeyFileProvider.in_data_dir(data_dir)
    except KeyProviderError as exc:
        fail(str(exc))
    return provider, DataKeyStore.in_data_dir(data_dir, provider)


@app.command("status")
def status() -> None:
    """Which master key is active, how many data keys each wraps, the audit key ring and the
    checkpoint key (ids and counts only, never a key)."""
    settings = load_settings()
    provider, keys = _stores()
    wrapped = keys.status()
    table = Table("key", "id", "active", "data keys wrapped")
    for kid in provider.key_ids():
        table.add_row("master", kid, "yes" if kid == provider.active_id else "",
                      str(wrapped.get(kid, 0)))  # fmt: skip
    try:
        ring = KeyRing.load(settings.resolved_data_dir, settings.audit_keys)
        for kid in ring.kids:
            table.add_row("audit", kid, "yes" if kid == ring.active_key()[0] else "", "")
    except KeyRingError as exc:
        console.print(f"[yellow]audit key ring:[/] {exc}")
    console.print(table)
    try:
        key = load_signing_key(settings.resolved_data_dir, settings.audit_signing_key)
        console.print(f"audit checkpoint key (public): {public_hex(key.public_key())}")
    except (OSError, ValueError) as exc:
        console.print(f"[yellow]audit checkpoint key:[/] {exc}")
    console.print(f"{sum(wrapped.values())} customer/household data keys")


def _waiting() -> None:
    err_console.print("waiting for a backup's key copy or another rotation to finish ...")


@app.command("rotate-master")
def rotate_master(
    by: Annotated[str, typer.Option(help="the privacy officer's subject (audited)")],
    retire_old: Annotated[
        bool, typer.Option(help="then drop old master keys nothing is wrapped under (hub stopped)")
    ] = False,
) -> None:
    """A new master key; every data key is re-wrapped under it (values are not re-encrypted)."""
    settings = load_settings()
    log = audit_log(settings)
    # From the new key to the last retired one: a backup copies the data keys and the master
    # keys as one pair under this lock, never one of them from before a retirement and the
    # other from after it (hub/backup.py).
    with master_key_lock(settings.resolved_data_dir, _waiting):
        provider, keys = _stores()  # read under the lock: a rotation waited for is seen
        old = provider.active_id
        intent(log, by, ROTATE, None, {"rotate_master": {"old": old}})
        new = provider.rotate()
        rewrapped = keys.rewrap()
        retired = []
        if retire_old:
            rewrapped += keys.rewrap()  # what a running hub wrapped meanwhile
            for kid in provider.key_ids():
                if kid != new and not keys.status().get(kid):
                    provider.retire(kid)
                    retired.append(kid)
    details = {"master_key_rotated": {"old": old, "new": new, "rewrapped": rewrapped,
                                      "retired": retired}}  # fmt: skip
    closing(log, by, ROTATE, None, details, f"master key {new} is active ({rewrapped} data "
            "keys re-wrapped)")  # fmt: skip
    console.print(f"master key {new} active; {rewrapped} data keys re-wrapped; "
                  f"retired: {', '.join(retired) or 'none'}")  # fmt: skip


@app.command("reseal")
def reseal(
    by: Annotated[str, typer.Option(help="the privacy officer's subject (audited)")],
    batch_size: Annotated[int, typer.Option(min=1, help="nodes per write")] = 1000,
) -> None:
    """Seal every sealed property still plain in the graph (customers, households, advisors,
    interaction notes, social accounts' display names written before they were sealed), then
    compact the graph's write log. A value that cannot be sealed does not stop the others:
    each one left is listed at the end (label, id, property; never the value) and the command
    exits 2. Resumable: run it again after an interruption; values sealed already are left
    alone. Nothing is sealed under an owner the erasure ledger lists (an erased customer's
    note no HAD edge reaches, an erased customer back after a restore): that would make them a
    new data key; listed, `c360 erase --reapply` removes them."""
    from graph.repositories.reseal import Resealed, ResealError, reseal_plain  # the graph's

    settings = load_settings()
    try:
        erased = erased_owners(ErasureLedger.of(settings).entries())
    except LedgerError as exc:
        fail(f"{exc}; nothing was sealed (an erased customer must not get a new data key)")
    log = audit_log(settings)
    intent(log, by, RESEAL, None, {"reseal": {"batch_size": batch_size}})

    async def go() -> Resealed:
        async with graph(settings) as store:
            result = await reseal_plain(store, FIELDS, batch_size, erased)
            # Always, not only when this run sealed something: an earlier run may have sealed
            # and stopped before this step, leaving the plain values in the write log.
            try:
                await store.compact()
            except GraphError as exc:
                raise ResealError(
                    f"sealed {result.done}, but the graph's write log was not compacted and "
                    f"still holds the plain values ({exc}): run `c360 keys reseal` again"
                ) from exc
            return result

    try:
        result = run(go())
    except ResealError as exc:
        fail(str(exc))
    done, unsealed = result.done, result.unsealed
    details = {"resealed": done, "unsealed": len(unsealed)}
    closing(log, by, RESEAL, None, details, f"{sum(done.values())} nodes were sealed",
            "partial" if unsealed else "ok")  # fmt: skip
    log_note = (
        "a graph server the hub does not run keeps its own write log: rewrite it there so no "
        "plain value stays in it"
        if settings.graph_url
        else "graph write log compacted"
    )
    console.print(
        f"sealed: {done['customers']} customers, {done['households']} households, "
        f"{done['advisors']} advisors, {done['interactions']} interaction notes, "
        f"{done['social_accounts']} social accounts; {log_note}"
    )
    if unsealed:
        for value in unsealed:
            err_console.print(f"  {value.label} {value.node} {value.prop}: {value.reason}")
        fail(f"{len(unsealed)} values could not be sealed (listed above); the rest are sealed")
