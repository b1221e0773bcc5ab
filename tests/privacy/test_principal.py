"""JWT verification (HS256 data-dir key, RS256 public key / JWKS) and purpose rules."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from strawberry.exceptions import ConnectionRejectionError

from hub.live import authenticate
from hub.settings import Settings
from privacy.principal import AuthError, TokenVerifier, issue_token, resolve_purpose
from privacy.secrets import load_or_create_secret
from privacy.types import Principal


def _bearer(token: str, purpose: str | None = None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {token}"}
    if purpose is not None:
        headers["x-purpose"] = purpose
    return headers


def test_hs256_round_trip(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    key = load_or_create_secret(data_dir, "jwt")
    token = issue_token(key, "rm-7", ["advisor"], purpose="service", branch="BJ01")
    principal = TokenVerifier.from_settings(settings).authenticate(_bearer(token))
    assert principal == Principal(
        subject="rm-7", roles=("advisor",), purpose="service", branch="BJ01"
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Basic abc"}, {"authorization": "Bearer "}, _bearer("x.y.z")],
)
def test_missing_or_garbled_token_is_401(data_dir: Path, headers: dict[str, str]) -> None:
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    with pytest.raises(AuthError) as info:
        verifier.authenticate(headers)
    assert info.value.status == 401


def test_expired_and_foreign_key_tokens_are_401(data_dir: Path) -> None:
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    key = load_or_create_secret(data_dir, "jwt")
    expired = issue_token(key, "u", ["advisor"], ttl=timedelta(hours=-2))
    with pytest.raises(AuthError, match="expired"):
        verifier.authenticate(_bearer(expired))
    forged = issue_token(b"not-the-key" * 4, "u", ["advisor"])
    with pytest.raises(AuthError, match="invalid"):
        verifier.authenticate(_bearer(forged))
    no_exp = jwt.encode({"sub": "u", "roles": []}, key, algorithm="HS256")
    with pytest.raises(AuthError):
        verifier.authenticate(_bearer(no_exp))
    bad_roles = jwt.encode(
        {"sub": "u", "roles": "admin", "exp": datetime.now(UTC) + timedelta(hours=1)},
        key,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="roles"):
        verifier.authenticate(_bearer(bad_roles))


def test_purpose_header_only_within_token() -> None:
    claims = {"purpose": "service", "purposes": ["service", "risk"]}
    assert resolve_purpose(claims, None) == "service"
    assert resolve_purpose(claims, "RISK") == "risk"
    for wanted in ("marketing", "shopping"):
        with pytest.raises(AuthError) as info:
            resolve_purpose(claims, wanted)
        assert info.value.status == 403
    assert resolve_purpose({"purpose": "compliance"}, "compliance") == "compliance"
    assert resolve_purpose({}, None) is None


def test_a_websocket_purpose_given_twice_is_refused(data_dir: Path) -> None:
    """connection_init's x-purpose in two spellings: refused as two HTTP headers are, not
    the last key used."""
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    key = load_or_create_secret(data_dir, "jwt")
    token = issue_token(key, "u", ["advisor"], purpose="service", purposes=["service", "risk"])
    payload = {"authorization": f"Bearer {token}", "x-purpose": "service", "X-Purpose": "risk"}
    with pytest.raises(ConnectionRejectionError) as info:
        authenticate(verifier, payload)
    reason = info.value.payload["reason"]  # type: ignore[index]
    assert reason.startswith("X-Purpose must appear once, with one purpose; "), reason
    assert authenticate(verifier, {"authorization": f"Bearer {token}", "X-Purpose": "risk"})


def _rsa() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public_pem


def _rs_token(private: rsa.RSAPrivateKey, kid: str | None = None, **extra: object) -> str:
    claims = {"sub": "svc", "roles": ["auditor"], "exp": datetime.now(UTC) + timedelta(hours=1)}
    return jwt.encode(
        claims | extra, private, algorithm="RS256", headers={"kid": kid} if kid else None
    )


def test_rs256_public_key_file(data_dir: Path) -> None:
    private, public_pem = _rsa()
    pem_file = data_dir / "pub.pem"
    pem_file.write_text(public_pem)
    settings = Settings(
        data_dir=data_dir,
        jwt_public_key_file=pem_file,
        jwt_issuer="https://idp",
        jwt_audience="c360",
    )
    verifier = TokenVerifier.from_settings(settings)
    token = _rs_token(private, iss="https://idp", aud="c360")
    assert verifier.authenticate(_bearer(token)).roles == ("auditor",)
    with pytest.raises(AuthError):
        verifier.authenticate(_bearer(_rs_token(private, iss="https://other", aud="c360")))
    # An HS256 token signed with the public key text must not pass (algorithm confusion).
    hs = jwt.encode({"sub": "x", "roles": [], "exp": 2**31}, "secret-" * 6, algorithm="HS256")
    with pytest.raises(AuthError):
        verifier.authenticate(_bearer(hs))


def test_rs256_jwks_file(data_dir: Path) -> None:
    private, _ = _rsa()
    other, _ = _rsa()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwks_file = data_dir / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig"}]}))
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir, jwt_jwks_file=jwks_file))
    assert verifier.authenticate(_bearer(_rs_token(private, "k1"))).subject == "svc"
    with pytest.raises(AuthError, match="unknown key"):
        verifier.authenticate(_bearer(_rs_token(private, "k9")))
    with pytest.raises(AuthError):
        verifier.authenticate(_bearer(_rs_token(other, "k1")))


def test_a_verified_token_is_remembered_until_its_exp(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same token again skips the signature check, but never past its exp (nor past
    VERIFIED_TTL_S); a token that differs in one character is verified (and refused). Waits
    for a 2-second token to expire."""
    import privacy.principal as principal_module

    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir, jwt_leeway_s=0))
    key = load_or_create_secret(data_dir, "jwt")
    token = issue_token(key, "rm-7", ["advisor"], purpose="service", ttl=timedelta(seconds=2))
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    decodes: list[str] = []
    real_decode = jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        decodes.append("decode")
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(principal_module.jwt, "decode", counting_decode)
    first = verifier.authenticate(_bearer(token))
    assert verifier.authenticate(_bearer(token)) == first
    assert decodes == ["decode"]

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(AuthError):
        verifier.authenticate(_bearer(forged))

    # Once the token has expired the remembered claims are not used.
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(AuthError, match="expired"):
        verifier.authenticate(_bearer(token))
    assert len(decodes) == 3


def _signed(data_dir: Path, **claims: object) -> str:
    key = load_or_create_secret(data_dir, "jwt")
    base: dict[str, object] = {"sub": "u", "roles": ["privacy_officer"], "iat": int(time.time())}
    return jwt.encode(base | claims, key, algorithm="HS256")


# Evaluated when the tests are collected: valid for hours, not minutes, so a long suite run
# (22 min under load) does not turn "wrong type" into "expired" before this test runs.
_VALID = 6 * 3600


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": str(int(time.time()) + _VALID)}, "exp must be a number"),
        ({"exp": 1e308}, "valid longer than the hub allows (24 h)"),
        ({"exp": int(time.time()) + 2 * 86_400}, "valid longer than the hub allows"),
        ({"exp": int(time.time()) + _VALID, "nbf": "0"}, "nbf must be a number"),
        ({"exp": int(time.time()) + _VALID, "iat": "now"}, "iat"),
        # QA, session 19: PyJWT reads exp with int(), so true was 1 and "expired".
        ({"exp": True}, "exp must be a number (NumericDate: seconds since 1970), not a boolean"),
        ({"exp": False}, "exp must be a number (NumericDate: seconds since 1970), not a boolean"),
        ({"exp": int(time.time()) + _VALID, "nbf": True}, "nbf must be a number"),
        ({"exp": int(time.time()) + _VALID, "iat": True}, "iat must be a number"),
        ({"exp": int(time.time()) + _VALID, "nbf": int(time.time()) + 3600}, "nbf is in the"),
        ({"exp": int(time.time()) + _VALID, "iat": int(time.time()) + 3600}, "iat is in the"),
        ({"exp": int(time.time()) + _VALID, "purpose": ["compliance", "marketing"]},
         "purpose must be a string"),
        ({"exp": int(time.time()) + _VALID, "purposes": "compliance"},
         "purposes must be a list of strings"),
        # QA, session 16: a sub with a NUL was accepted, then could not be filtered for.
        ({"exp": int(time.time()) + _VALID, "sub": "po\x001"}, "sub must be printable text"),
        ({"exp": int(time.time()) + _VALID, "sub": "u\x1b[31m"}, "sub must be printable text"),
        ({"exp": int(time.time()) + _VALID, "sub": "u" * 257}, "at most 256 characters"),
        ({"exp": int(time.time()) + _VALID, "sub": "po1\nINFO forged"}, "printable text"),
        ({"exp": int(time.time()) + _VALID, "sub": "po\u200b1"}, "printable text"),
    ],
)  # fmt: skip
def test_claims_of_the_wrong_type_or_lifetime_are_refused(
    data_dir: Path, claims: dict[str, object], reason: str
) -> None:
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    with pytest.raises(AuthError) as info:
        verifier.authenticate(_bearer(_signed(data_dir, **claims)))
    assert info.value.status == 401
    assert reason in str(info.value)
    assert "[" not in str(info.value) and "'" not in str(info.value)  # no Python reprs


def test_the_longest_lifetime_is_a_setting(data_dir: Path) -> None:
    token = _signed(data_dir, exp=int(time.time()) + 3 * 3600)
    allowed = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    assert allowed.authenticate(_bearer(token)).subject == "u"
    short = TokenVerifier.from_settings(Settings(data_dir=data_dir, jwt_max_lifetime_s=3600))
    with pytest.raises(AuthError, match=r"allows \(1 h\)"):
        short.authenticate(_bearer(token))
