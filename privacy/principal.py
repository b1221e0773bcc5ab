"""Who is asking: verify ``Authorization: Bearer <jwt>`` and the ``X-Purpose`` header.

HS256 with the data-dir key (``keys/jwt.key``) for local use; RS256 (or another asymmetric
algorithm) with ``C360_JWT_PUBLIC_KEY_FILE`` or a JWKS file (``C360_JWT_JWKS_FILE``).
Claims: ``sub``, ``roles`` (list), optional ``branch``, ``purpose`` and ``purposes`` (allowed).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from privacy.audit import make_record, stamp
from privacy.secrets import load_or_create_secret
from privacy.types import Principal, Purpose
from shared.echo import echo, echo_id
from shared.settings import Settings

# Characters a token subject may have (identity providers use ids far shorter).
MAX_SUBJECT = 256

PURPOSE_HEADER = "x-purpose"
HS_ALGORITHMS = ("HS256", "HS384", "HS512")
# Clock skew allowed on exp/nbf/iat (C360_JWT_LEEWAY_S).
DEFAULT_LEEWAY_S = 5.0
# Longest time a token may still be valid for (C360_JWT_MAX_LIFETIME_S): a token whose exp
# lies further ahead (exp 1e308: never) is refused, so a leaked token cannot outlive a day.
DEFAULT_MAX_LIFETIME_S = 86_400.0
TIME_CLAIMS = ("exp", "nbf", "iat")
# Verified tokens remembered per verifier (a client sends the same token with every request):
# how many, and for how long at most (never past the token's own exp).
VERIFIED_CACHE_SIZE = 1024
VERIFIED_TTL_S = 60.0


class AuthError(Exception):
    """Authentication failed (status 401) or the purpose is not allowed (403). The message is
    safe to send to the client."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies tokens with one key source; build it once per app with :meth:`from_settings`."""

    algorithm: str
    key: Any = None
    jwks: jwt.PyJWKSet | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = DEFAULT_LEEWAY_S
    max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S
    # token -> (claims, until): the signature and claim checks of a token already verified
    # (~0.15 ms a request) are not repeated until its exp or VERIFIED_TTL_S, whichever is first.
    _verified: OrderedDict[str, tuple[dict[str, Any], float]] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        common: dict[str, Any] = {
            "issuer": settings.jwt_issuer,
            "audience": settings.jwt_audience,
            "leeway_s": float(settings.jwt_leeway_s),
            "max_lifetime_s": float(settings.jwt_max_lifetime_s),
        }
        algorithm = settings.jwt_algorithm.upper()
        asymmetric = algorithm if algorithm not in HS_ALGORITHMS else "RS256"
        if settings.jwt_jwks_file:
            data = json.loads(Path(settings.jwt_jwks_file).read_text(encoding="utf-8"))
            return cls(algorithm=asymmetric, jwks=jwt.PyJWKSet.from_dict(data), **common)
        if settings.jwt_public_key_file:
            key = Path(settings.jwt_public_key_file).read_text(encoding="utf-8")
            return cls(algorithm=asymmetric, key=key, **common)
        secret = load_or_create_secret(settings.resolved_data_dir, "jwt")
        return cls(algorithm="HS256", key=secret, **common)

    def _key_for(self, token: str) -> Any:
        if self.jwks is None:
            return self.key
        kid = jwt.get_unverified_header(token).get("kid")
        for jwk in self.jwks.keys:
            if kid is None or jwk.key_id == kid:
                return jwk.key
        raise AuthError("token signed with an unknown key (kid)")

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; AuthError(401) with a reason a client can act on."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None:
            claims, until = known
            if now < until:
                self._verified.move_to_end(token)
                return dict(claims)
            del self._verified[token]  # expired (or stale): verified again, and refused
        claims = self._verify(token, now)
        exp = claims.get("exp")
        if isinstance(exp, int | float):  # required, and a number once decoded
            self._verified[token] = (dict(claims), min(float(exp), now + VERIFIED_TTL_S))
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str, now: float) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                # exp, nbf and iat are checked below, types first: PyJWT reads them with
                # int(value), so "exp": true was 1 and refused as "expired" (QA, session 19),
                # "1700000000" passed and 1e308 never expired.
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self.audience is not None,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        # The signature is good; now the payload must say one thing: json.loads keeps the last
        # of duplicate keys, so a signer's {"roles": [...], "roles": [...]} would be ambiguous.
        _refuse_duplicate_keys(token)
        _check_time_claims(claims)
        if claims["exp"] <= now - self.leeway_s:
            raise AuthError("token expired; get a new one")
        for name in ("nbf", "iat"):
            if name in claims and claims[name] > now + self.leeway_s:
                raise AuthError(f"invalid token: not valid yet ({name} is in the future)")
        if claims["exp"] - now > self.max_lifetime_s + self.leeway_s:
            raise AuthError(
                f"invalid token: it stays valid longer than the hub allows "
                f"({_hours(self.max_lifetime_s)}); get one with a shorter lifetime"
            )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise AuthError("invalid token: sub must be a non-empty string")
        # The subject is written into every audit record and log line and is what auditEvents
        # filters by: a control character (QA, session 16: a NUL), a line break (a forged log
        # line), an invisible one (U+200B: two subjects that look the same) or a page of text
        # is no one's name.
        if len(subject) > MAX_SUBJECT or not subject.isprintable():
            raise AuthError(
                f"invalid token: sub must be printable text of at most {MAX_SUBJECT} characters"
            )
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError("invalid token: roles must be a list of strings")
        purpose = claims.get("purpose")
        if purpose is not None and not isinstance(purpose, str):
            raise AuthError("invalid token: purpose must be a string")
        purposes = claims.get("purposes")
        if purposes is not None and (
            not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes)
        ):
            raise AuthError("invalid token: purposes must be a list of strings")
        branch = claims.get("branch")
        if branch is not None and not isinstance(branch, str):
            raise AuthError("invalid token: branch must be a string")
        return claims

    def authenticate(self, headers: Mapping[str, str | Sequence[str]]) -> Principal:
        """The Principal for a request's headers (keys lower-case, as Starlette gives them;
        X-Purpose sent more than once as Starlette's ``getlist`` gives it, or as a list of its
        values: hub/live.py)."""
        getlist = getattr(headers, "getlist", None)  # Starlette's Headers: every occurrence
        if getlist and len(getlist("authorization")) > 1:
            # Which credential speaks for the request would be the server's guess (the first
            # was taken, silently): refused, as two X-Purpose headers are.
            raise AuthError("send the Authorization header once, with one bearer token", 400)
        header = headers.get("authorization", "")
        scheme, _, token = (header if isinstance(header, str) else "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing bearer token: send 'Authorization: Bearer <jwt>'")
        claims = self.verify(token.strip())
        purpose = resolve_purpose(
            claims, getlist(PURPOSE_HEADER) if getlist else headers.get(PURPOSE_HEADER)
        )
        return principal_from_claims(claims, purpose)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


def _check_time_claims(claims: Mapping[str, Any]) -> None:
    """exp, nbf and iat are finite JSON numbers (RFC 7519 NumericDate), never strings."""
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if value is None and name not in claims:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AuthError(
                f"invalid token: {name} must be a number (NumericDate: seconds since 1970), "
                f"not {_json_type(value)}"
            )
        if not math.isfinite(value):
            raise AuthError(f"invalid token: {name} must be a finite number")


def _json_type(value: Any) -> str:
    """What a claim's JSON value is, in words (never the value: it is the caller's text)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey
    return dict(pairs)


def _refuse_duplicate_keys(token: str) -> None:
    """AuthError when the token's header or payload JSON repeats a key."""
    for segment in token.split(".")[:2]:
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            json.loads(raw, object_pairs_hook=_no_duplicates)
        except _DuplicateKey as exc:
            raise AuthError("invalid token: a claim appears twice") from exc
        except (binascii.Error, ValueError) as exc:
            raise AuthError("invalid token: malformed segment") from exc


def allowed_purposes(claims: Mapping[str, Any]) -> set[str]:
    allowed = claims.get("purposes") or []
    if not isinstance(allowed, list):
        allowed = []
    single = claims.get("purpose")
    return {str(p) for p in allowed} | ({str(single)} if single else set())


def resolve_purpose(claims: Mapping[str, Any], header: str | Sequence[str] | None) -> str | None:
    """X-Purpose overrides the claim only within what the token allows; else AuthError(403)
    (400 for a header that is not ASCII: no purpose name is; 400 for a header sent more
    than once, given as the list of its values, or holding a list)."""
    values = [header] if isinstance(header, str) else list(header or ())
    if len(values) > 1 or any("," in v for v in values):
        # The first one used silently was a guess at what the caller meant: with two
        # purposes, which one the data may be used for is the caller's to say (QA, session
        # 22). A comma is two values too (RFC 9110 5.3: a proxy may join repeated headers).
        raise AuthError(
            "X-Purpose must appear once, with one purpose; this request has "
            f"{sum(len(v.split(',')) for v in values)} (send the header once)",
            status=400,
        )
    header = values[0] if values else None
    if header is None or not header.strip():
        single = claims.get("purpose")
        return str(single) if single else None
    known = {p.value for p in Purpose}
    if not header.isascii():
        # A purpose is one of the policy's ASCII names. HTTP headers reach us as latin-1
        # (Starlette), so UTF-8 text such as "营销" would be quoted back as mojibake: the
        # header is refused by what it must be, its bytes not repeated (QA, session 22).
        raise AuthError(
            f"X-Purpose must be one of {sorted(known)} in plain ASCII; "
            "this one has non-ASCII characters (send the purpose's name, not a translation)",
            status=400,
        )
    wanted = header.strip().lower()
    if wanted not in known:
        # A header of any length: repeated capped (shared/echo.py).
        raise AuthError(f"unknown purpose {echo(wanted)!r}; use one of {sorted(known)}", status=403)
    if wanted not in allowed_purposes(claims):
        raise AuthError(f"this token does not allow purpose {wanted!r}", status=403)
    return wanted


def principal_from_claims(claims: Mapping[str, Any], purpose: str | None) -> Principal:
    branch = claims.get("branch")
    return Principal(
        subject=str(claims["sub"]),
        roles=tuple(claims.get("roles") or ()),
        purpose=purpose,
        branch=str(branch) if branch else None,
        claims=dict(claims),
    )


def issue_details(token: str) -> dict[str, Any]:
    """What the audit record says of an issued token: its claims (the subject capped as every
    audited id), times as the records write them; never the token or its signature."""
    claims = jwt.decode(token, options={"verify_signature": False})

    def at(seconds: int) -> str:
        return stamp(datetime.fromtimestamp(seconds, UTC))

    return {
        "token_issued": {
            "sub": echo_id(claims["sub"]),
            "roles": [echo_id(r) for r in claims["roles"]],
            "purposes": claims.get("purposes", []),
            "branch": None if claims.get("branch") is None else echo_id(claims["branch"]),
            "issued_at": at(claims["iat"]),
            "expires_at": at(claims["exp"]),
        }
    }


def issue_record(by: str, operation: str, token: str, **details: Any) -> dict[str, Any]:
    """The audit record of a token issued by ``by`` (written before the token is handed
    out): :func:`issue_details` and ``details`` (the console's client)."""
    return make_record(
        principal=Principal(subject=by, roles=()),
        operation=operation,
        outcome="ok",
        details=issue_details(token) | details,
    )


def issue_token(
    key: bytes,
    subject: str,
    roles: list[str],
    *,
    purpose: str | None = None,
    purposes: list[str] | None = None,
    branch: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
) -> str:
    """An HS256 token for local use (``c360 token``, tests, the demo)."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if purpose:
        claims["purpose"] = purpose
    if purposes:
        claims["purposes"] = list(purposes)
    if branch:
        claims["branch"] = branch
    return jwt.encode(claims, key, algorithm="HS256")


__all__ = [
    "PURPOSE_HEADER",
    "AuthError",
    "TokenVerifier",
    "issue_details",
    "issue_record",
    "issue_token",
    "principal_from_claims",
    "resolve_purpose",
]
