"""RFC 6962 hashing: roots against the recursive definition, every inclusion and consistency
proof for trees of 1..20 leaves verifies, and altered proofs do not."""

from __future__ import annotations

import hashlib

from privacy import merkle


def mth(leaves: list[bytes]) -> bytes:
    # The RFC's recursive definition, written out independently.
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_known_vectors_and_roots() -> None:
    assert merkle.root([]).hex() == hashlib.sha256(b"").hexdigest()
    # RFC 6962 leaf hash of the empty string.
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    for n in range(1, 21):
        assert merkle.root(leaves(n)) == mth(leaves(n))


def test_inclusion_proofs_verify_and_tampering_is_caught() -> None:
    for n in range(1, 21):
        ls, top = leaves(n), merkle.root(leaves(n))
        for i in range(n):
            proof = merkle.inclusion_proof(i, ls)
            assert merkle.verify_inclusion(ls[i], i, n, proof, top)
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"x"), i, n, proof, top)
            if n > 1:
                assert not merkle.verify_inclusion(ls[i], (i + 1) % n, n, proof, top)


def test_consistency_proofs_verify_and_a_rewrite_is_caught() -> None:
    for n in range(1, 21):
        ls = leaves(n)
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, ls)
            old, new = merkle.root(ls[:m]), merkle.root(ls)
            assert merkle.verify_consistency(m, n, old, new, proof), (m, n)
            forged = merkle.root([merkle.leaf_hash(b"forged"), *ls[1:m]])
            assert not merkle.verify_consistency(m, n, forged, new, proof)


def test_the_frontier_gives_the_root_of_every_prefix_without_the_leaves() -> None:
    tree = merkle.Frontier()
    assert tree.root() == merkle.root([])
    ls = leaves(70)
    for n in range(1, 71):
        tree.append(ls[n - 1])
        assert (tree.size, tree.root()) == (n, merkle.root(ls[:n]))
