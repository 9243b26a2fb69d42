"""The audit log's RFC 9162 Merkle tree against the published Certificate Transparency vectors."""

from __future__ import annotations

import hashlib

import pytest

from tabadol.crypto.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The reference leaves and roots of the Certificate Transparency test suite (RFC 6962 / 9162).
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def test_empty_tree_root() -> None:
    """The empty tree's root is SHA-256 of nothing."""
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    """MTH over the first `size` reference leaves equals the published root."""
    assert root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION, ids=lambda v: str(v)[:8])
def test_reference_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    """Our audit paths are the published ones, and they verify against the published root."""
    proof = inclusion_proof(index, HASHES[:size])
    assert [node.hex() for node in proof] == path
    assert verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY, ids=lambda v: str(v)[:8])
def test_reference_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    """Our consistency proofs are the published ones, and they verify."""
    proof = consistency_proof(old, HASHES[:new])
    assert [node.hex() for node in proof] == path
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_every_inclusion_proof_up_to_40_verifies_and_no_other_leaf_does() -> None:
    """For trees of 1..40 leaves, each proof verifies its own leaf at its own index only."""
    for size in range(1, 41):
        leaves = _leaves(size)
        top = root(leaves)
        for index in range(size):
            proof = inclusion_proof(index, leaves)
            assert verify_inclusion(leaves[index], index, size, proof, top)
            assert (
                not verify_inclusion(leaves[index], (index + 1) % size, size, proof, top)
                or size == 1
            )
            assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, top)


def test_every_consistency_proof_up_to_40_verifies_and_catches_rewrites() -> None:
    """For all 1 <= m <= n <= 40 the proof verifies; a rewritten old entry is caught."""
    for new in range(1, 41):
        leaves = _leaves(new)
        new_root = root(leaves)
        for old in range(1, new + 1):
            proof = consistency_proof(old, leaves)
            old_root = root(leaves[:old])
            assert verify_consistency(old, new, old_root, new_root, proof)
            rewritten = root([leaf_hash(b"rewritten"), *leaves[1:old]])
            assert not verify_consistency(old, new, rewritten, new_root, proof)


@pytest.mark.parametrize(
    "mutate",
    [lambda p: p[:-1], lambda p: [*p, p[0]], lambda p: [bytes(32), *p[1:]], lambda p: p[::-1]],
    ids=["truncated", "extended", "zeroed node", "reordered"],
)
def test_malformed_proofs_are_false_not_errors(mutate) -> None:  # type: ignore[no-untyped-def]
    """A truncated, extended, altered or reordered proof verifies as False."""
    leaves = _leaves(13)
    top = root(leaves)
    assert not verify_inclusion(leaves[6], 6, 13, mutate(inclusion_proof(6, leaves)), top)
    proof = consistency_proof(5, leaves)
    assert not verify_consistency(5, 13, root(leaves[:5]), top, mutate(proof))


def test_out_of_range_arguments() -> None:
    """Impossible indexes and sizes are refused by the provers and are False for verifiers."""
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(3, _leaves(3))
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(0, _leaves(3))
    assert not verify_inclusion(HASHES[0], 5, 3, [], EMPTY_ROOT)
    assert not verify_consistency(4, 3, EMPTY_ROOT, EMPTY_ROOT, [])
