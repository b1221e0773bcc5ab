"""RFC 6962 / RFC 9162 Merkle tree hashing over the audit log's lines.

Leaf hash: SHA-256(0x00 || line bytes without the newline); node: SHA-256(0x01 || left ||
right); the tree over n leaves splits at the largest power of two below n. Pure functions: the
proofs here are checkable with a few lines elsewhere (bench/verify_audit_proof.py).
"""

from __future__ import annotations

import hashlib

__all__ = [
    "Frontier",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes (the empty tree: SHA-256 of nothing)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Bottom-up pairing gives the same tree as the recursive split: a lone last node rises.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class Frontier:
    """The root of a growing tree from O(log n) hashes: the roots of its perfect subtrees,
    largest first (one per set bit of the size). The tree over n leaves is the perfect tree of
    the largest power of two below n beside the tree of the rest, so folding these roots from
    the right gives :func:`root` of all the leaves, without keeping the leaves."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[tuple[int, bytes]] = []  # (leaves under it, subtree root)

    def append(self, leaf: bytes) -> None:
        self.size += 1
        peaks, width, node = self._peaks, 1, leaf
        while peaks and peaks[-1][0] == width:
            node = node_hash(peaks.pop()[1], node)
            width *= 2
        peaks.append((width, node))

    def copy(self) -> Frontier:
        twin = Frontier()
        twin.size, twin._peaks = self.size, list(self._peaks)
        return twin

    def root(self) -> bytes:
        if not self._peaks:
            return root([])
        node = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            node = node_hash(left, node)
        return node


def inclusion_proof(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(index, leaves): sibling hashes from the leaf up (RFC 6962 2.1.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is outside a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], top: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``leaf`` (a leaf hash) sit at ``index`` of the tree ``top``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == top


def consistency_proof(old: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(old, leaves): the tree of ``old`` leaves is a prefix of this one (RFC 6962 2.1.2)."""
    if not 0 < old <= len(leaves):
        raise ValueError(f"old size {old} must be within 1..{len(leaves)}")
    return _subproof(old, leaves, True)


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2."""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path = [old_root, *path]
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
