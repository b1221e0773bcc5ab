"""`c360 token`: an HS256 JWT signed with the data-dir key, for local use. Every token it
prints is audited first (who issued it, for which subject, roles, purposes, branch and until
when; never the token): one the audit log cannot record is not printed."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import audit_unwritable, fail, load_settings, os_user
from hub.cli.subject_common import audit_log
from hub.settings import Settings
from privacy.policy_set import load_policy_set
from privacy.principal import issue_record, issue_token
from privacy.secrets import load_or_create_secret
from privacy.types import AuditUnavailable, Purpose

_TTL_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(text: str) -> timedelta:
    """``8h``, ``30m``, ``2d``, ``1h30m``; raises ValueError for anything else."""
    compact = text.strip().lower()
    parts = _TTL_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"--ttl {text!r}: use a number and a unit, e.g. 8h, 30m, 2d, 1h30m")
    ttl = timedelta()
    for number, unit in parts:
        ttl += timedelta(**{_UNITS[unit]: int(number)})
    if ttl <= timedelta():
        raise ValueError("--ttl must be longer than zero")
    return ttl


def _check_roles(roles: list[str], data_dir: Path) -> None:
    """A role the active policy does not name would sign a token that is refused everything:
    say so now. The policy is the hub's (packaged, with the data dir's overrides); an OPA
    server is given the same set."""
    known = load_policy_set(data_dir).roles  # PolicyDataError is a ValueError too
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; use one of {sorted(known)}")


def make_token(
    sub: str, roles: list[str], purposes: list[str], branch: str | None, ttl: str
) -> str:
    """The token ``c360 token`` prints: the first purpose is the default, all are allowed."""
    if not sub.strip():
        # The hub refuses a token without a subject (privacy/principal.py): say so now.
        raise ValueError("--sub must name the user or service (it is empty)")
    known = {p.value for p in Purpose}
    unknown = [p for p in purposes if p not in known]
    if unknown:
        raise ValueError(f"unknown purpose {unknown[0]!r}; use one of {sorted(known)}")
    settings = load_settings()
    _check_roles(roles, settings.resolved_data_dir)
    lifetime = parse_ttl(ttl)
    if lifetime.total_seconds() > settings.jwt_max_lifetime_s:
        # The hub would refuse it (privacy/principal.py): say so now, not at the first request.
        hours = settings.jwt_max_lifetime_s / 3600
        raise ValueError(
            f"--ttl {ttl}: longer than the hub accepts ({hours:g}h, C360_JWT_MAX_LIFETIME_S)"
        )
    key = load_or_create_secret(settings.resolved_data_dir, "jwt")
    return issue_token(
        key,
        sub,
        roles,
        purpose=purposes[0] if purposes else None,
        purposes=purposes or None,
        branch=branch,
        ttl=lifetime,
    )


def issuer(by: str | None) -> str:
    """Who issues a token, as its audit record names it: ``--by``, else the OS user."""
    who = (by if by is not None else os_user("--by")).strip()
    if not who:
        fail("--by is empty: give who issues the token (it is audited)")
    return who


def audit_issue(settings: Settings, by: str, token: str) -> None:
    """Write-ahead: the token on record before it is printed (by ``c360 token`` and by the
    ``serve --demo`` banner). If the log cannot take the record, no token: one sentence,
    exit 2."""
    record = issue_record(by, "cli token", token)
    log = audit_log(settings)
    try:
        asyncio.run(log.append(record))
    except AuditUnavailable as exc:
        fail(f"no token was issued: {audit_unwritable(exc)}, then run the command again")
    finally:
        log.close()  # `serve --demo` goes on running: no writer thread or index left open


def token(
    sub: Annotated[str, typer.Option("--sub", help="subject: the user or service id")],
    role: Annotated[list[str], typer.Option("--role", help="a role; repeat for more")],
    purpose: Annotated[
        list[str] | None,
        typer.Option(help="purpose of use (service, marketing, risk, compliance); repeat"),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="the branch the subject works at")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime, e.g. 8h, 30m, 2d")] = "8h",
    by: Annotated[
        str | None,
        typer.Option(help="who issues it (audited); default: the OS user running this"),
    ] = None,
) -> None:
    """Print an HS256 JWT signed with the data-dir key (C360_DATA_DIR/keys/jwt.key).

    Audited before it is printed (--by, or the OS user, as who issued it); no record, no
    token."""
    who = issuer(by)
    try:
        issued = make_token(sub, role, purpose or [], branch, ttl)
    except ValueError as exc:
        fail(str(exc))
    audit_issue(load_settings(), who, issued)
    print(issued)
