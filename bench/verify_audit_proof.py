"""Check a c360 audit proof without c360: only hashlib and `cryptography` (Ed25519).

    c360 audit public-key > key.hex                      # once, from the hub's operator
    c360 audit prove --seq 42 > proof.json
    python bench/verify_audit_proof.py proof.json --public-key "$(cat key.hex)"
    c360 audit prove --consistency 100 200 > cons.json
    python bench/verify_audit_proof.py cons.json

Inclusion (format c360-audit-inclusion/v1): ``line`` is the audit log's line ``seq`` (its
bytes without the newline are the leaf), ``path`` the RFC 6962 audit path (hex, leaf to
root) in a tree of ``size`` leaves, ``checkpoint`` the signed {size, root, time, key, sig};
the signature is Ed25519 over "c360-audit-checkpoint/v1\\n<size>\\n<root>\\n<time>".
Consistency (c360-audit-consistency/v1): ``old``, ``new``, ``old_root``, ``new_root``,
``path`` (RFC 6962 PROOF(old, new), hex); compare the roots with two checkpoints you hold.
Exit 0 and "OK ..." when the proof holds, 1 and the reason when not.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    # RFC 9162 2.1.3.2
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def consistent(old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> bool:
    # RFC 9162 2.1.4.2
    if not 0 < old <= new:
        return False
    if old == new:
        return not path and old_root == new_root
    if old & (old - 1) == 0:
        path = [old_root, *path]
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def signed(cp: dict, public_key_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    message = f"c360-audit-checkpoint/v1\n{cp['size']}\n{cp['root']}\n{cp['time']}".encode()
    try:
        key.verify(base64.b64decode(cp["sig"]), message)
    except InvalidSignature:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="verify a c360 audit proof")
    parser.add_argument("proof", help="the JSON `c360 audit prove` printed")
    parser.add_argument("--public-key", help="hex Ed25519 key the checkpoint must be signed by")
    args = parser.parse_args()
    with open(args.proof, encoding="utf-8") as fh:
        proof = json.load(fh)
    path = [bytes.fromhex(h) for h in proof["path"]]
    if proof["format"] == "c360-audit-consistency/v1":
        ok = consistent(proof["old"], proof["new"], bytes.fromhex(proof["old_root"]),
                        bytes.fromhex(proof["new_root"]), path)  # fmt: skip
        print(f"OK {proof['old']} records are a prefix of {proof['new']}" if ok
              else "FAILED: the consistency proof does not hold")  # fmt: skip
        return 0 if ok else 1
    cp = proof["checkpoint"]
    if args.public_key and not signed(cp, args.public_key):
        print("FAILED: the checkpoint is not signed by that key")
        return 1
    line = json.loads(proof["line"])
    if line.get("seq") != proof["seq"] or proof["index"] != proof["seq"] - 1:
        print("FAILED: the line is not record seq")
        return 1
    leaf = hashlib.sha256(b"\x00" + proof["line"].encode()).digest()
    top = root_from_inclusion(leaf, proof["index"], cp["size"], path)
    if top is None or top.hex() != cp["root"]:
        print("FAILED: the record is not in the tree the checkpoint signed")
        return 1
    signer = "signed checkpoint" if args.public_key else "checkpoint (signature NOT checked)"
    print(f"OK record {proof['seq']} is in the {signer} of {cp['size']} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
