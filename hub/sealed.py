"""Encrypted files for backups: AES-256-GCM in 1 MiB chunks, the key from a passphrase
(scrypt) or a 32-byte key file.

Layout: one header line of JSON (format, kdf and its parameters, salt), then chunks of
``[4-byte length][12-byte nonce][ciphertext + tag]``. Each chunk's associated data is the
header, its index and whether it is the last, so chunks cannot be reordered, dropped, or the
file cut short without the decryption failing.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = ["SealError", "Secret", "open_sealed", "seal"]

MAGIC = "c360-sealed"
CHUNK = 1 << 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class SealError(Exception):
    """Wrong passphrase or key, or a damaged or truncated file."""


@dataclass(frozen=True)
class Secret:
    """A passphrase (stretched with scrypt) or a raw 32-byte key (from a key file)."""

    passphrase: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_key_file(cls, path: Path) -> Secret:
        raw = path.read_bytes()
        if len(raw) == 32:
            return cls(key=raw)
        try:
            decoded = base64.b64decode(raw.strip(), validate=True)
        except binascii.Error:
            decoded = b""
        if len(decoded) != 32:
            raise SealError(
                f"{path} must hold 32 random bytes, raw or base64 "
                "(e.g. `head -c 32 /dev/urandom | base64 > backup.key`)"
            )
        return cls(key=decoded)

    def derive(self, header: dict[str, object]) -> bytes:
        if header["kdf"] == "key":
            if self.key is None:
                raise SealError("this backup was sealed with a key file: give --key-file")
            return self.key
        if self.passphrase is None:
            raise SealError("this backup was sealed with a passphrase: give one")
        salt = base64.b64decode(str(header["salt"]))
        n, r, p = (int(header[k]) for k in ("n", "r", "p"))  # type: ignore[call-overload]
        return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self.passphrase)

    def header(self) -> dict[str, object]:
        if self.key is not None:
            return {"format": MAGIC, "version": 1, "kdf": "key"}
        salt = base64.b64encode(os.urandom(16)).decode()
        return {"format": MAGIC, "version": 1, "kdf": "scrypt", "salt": salt,
                "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}  # fmt: skip


def _aad(header_line: bytes, index: int, last: bool) -> bytes:
    return header_line + struct.pack(">Q?", index, last)


def seal(source: BinaryIO, dest: BinaryIO, secret: Secret) -> None:
    header = secret.header()
    header_line = json.dumps(header, sort_keys=True).encode() + b"\n"
    aead = AESGCM(secret.derive(header))
    dest.write(header_line)
    index = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        nonce = os.urandom(12)
        ct = aead.encrypt(nonce, chunk, _aad(header_line, index, last))
        dest.write(struct.pack(">I", len(ct)) + nonce + ct)
        if last:
            return
        chunk, index = following, index + 1


def open_sealed(source: BinaryIO, secret: Secret) -> Iterator[bytes]:
    """The plaintext, chunk by chunk; raises SealError on a wrong secret or damage."""
    header_line = source.readline()
    try:
        header = json.loads(header_line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != MAGIC:
        raise SealError("not a c360 backup (no c360-sealed header)")
    aead = AESGCM(secret.derive(header))
    index = 0
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) < 4:
            raise SealError("the backup is truncated (its last chunk is missing)")
        (size,) = struct.unpack(">I", size_bytes)
        nonce, ct = source.read(12), source.read(size)
        if len(ct) < size:
            raise SealError("the backup is truncated")
        last = source.peek(1)[:1] == b"" if hasattr(source, "peek") else False
        try:
            yield aead.decrypt(nonce, ct, _aad(header_line, index, last))
        except InvalidTag as exc:
            raise SealError(
                "wrong passphrase or key, or the backup is damaged" if index == 0
                else f"the backup is damaged (chunk {index})"
            ) from exc  # fmt: skip
        if last:
            return
        index += 1
