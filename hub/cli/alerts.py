"""`c360 alerts dead | redeliver`: the outbound alert deliveries' dead letters, and re-sending
one as `redeliverAlert` does (the same policy decision, checks, audit and sending)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from hub.cli.common import console, fail, graph, load_settings, run
from hub.services import close_privacy, open_privacy
from hub.settings import Settings
from privacy.audit import make_record
from privacy.types import Principal, PrivacyError
from resolvers.errors import ApiError

app = typer.Typer(no_args_is_help=True, help="Outbound alert deliveries (dead letters).")

ANALYST = "brand_analyst"


@app.command("dead")
def dead(rule: Annotated[str | None, typer.Option(help="only this rule's")] = None) -> None:
    """The dead letters, newest first (at most 500): id, rule, channel host, attempts, error."""
    from graph.repositories import alert_rules as repo

    settings = load_settings()

    async def go() -> list[dict[str, Any]]:
        async with graph(settings) as store:
            return await repo.deliveries(store, rule, "DEAD")

    rows = run(go())
    table = Table("id", "rule", "alert", "channel", "attempts", "last error", "re-sent")
    for r in rows:
        # The host only: a channel's URL may carry the receiver's token.
        table.add_row(str(r["id"]), str(r["ruleId"]), str(r["alertStart"]),
                      httpx.URL(str(r["url"])).host, str(r["attempts"]),
                      str(r.get("lastError") or ""), str(r.get("redeliveredAt") or ""))  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} dead letter(s); `c360 alerts redeliver ID --by S` re-sends one")


@app.command("redeliver")
def redeliver(
    delivery: Annotated[str, typer.Argument(help="the dead delivery's id (`c360 alerts dead`)")],
    by: Annotated[str, typer.Option(help="who re-sends it (recorded and audited)")],
    role: Annotated[
        str, typer.Option(help="their role, decided by the policy as over GraphQL")
    ] = ANALYST,
) -> None:
    """Re-send a dead letter as `redeliverAlert` does: allowed to whom the policy lets write
    its rule, audited, signed now, the channel checked, 3 attempts."""
    settings = load_settings()
    row = run(_redeliver(settings, delivery, Principal(subject=by, roles=(role,))))
    status, attempts = row["status"], row["attempts"]
    error = f": {row.get('lastError')}" if status == "DEAD" else ""
    console.print(f"delivery {delivery}: {status} ({attempts} attempt(s) in all){error}")
    if status == "DEAD":
        raise typer.Exit(1)


async def _redeliver(settings: Settings, delivery: str, who: Principal) -> dict[str, Any]:
    from resolvers.alert_redelivery import redeliver as resend
    from resolvers.privacy import RequestPrivacy

    services = await open_privacy(settings)
    request_id = f"cli-{uuid.uuid4().hex[:12]}"
    outcome, details, result = "error", {"redeliver": f"AlertDelivery:{delivery}"}, None
    try:
        async with graph(settings) as store, httpx.AsyncClient(timeout=10.0) as client:

            async def no_customers(ids: list[str]) -> list[Any]:
                return [None] * len(ids)  # a delivery names no customer

            privacy = RequestPrivacy(services, who, no_customers, request_id)
            try:
                result = await resend(privacy, store, client, delivery, settings)
                outcome = "ok"
                details |= {"status": result["status"]}
            except ApiError as exc:
                outcome = "denied" if exc.code == "FORBIDDEN" else "error"
                details |= {"error": exc.code}
                fail(f"{exc} ({exc.code})")
            except PrivacyError as exc:
                fail(f"{exc}; nothing was sent")
    finally:
        try:
            # The command's own record after its intent, as a request's follows its intent.
            await services.append_audit(
                [
                    make_record(
                        principal=who,
                        operation="cli alerts redeliver",
                        outcome=outcome,
                        request_id=request_id,
                        details=details,
                    )
                ]
            )
        except PrivacyError as exc:
            console.print(f"[yellow]warning:[/] the outcome could not be audited: {exc}")
        finally:
            await close_privacy(services)
    assert result is not None
    return result
