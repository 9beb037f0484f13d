"""RFC 6962 / RFC 9162 (section 2.1) Merkle tree hashing, proofs and their verification.

The audit log is a Merkle tree in the Certificate Transparency style:

* a leaf hash is ``SHA-256(0x00 || data)`` where ``data`` is the record's canonical bytes
  (:func:`bodycam.audit.canonical.canonical_bytes`);
* an interior node is ``SHA-256(0x01 || left || right)``;
* the Merkle Tree Hash of ``n`` leaves splits at the largest power of two ``k < n``:
  ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``; the empty tree hashes to ``SHA-256("")``.

Everything here works on *leaf hashes* (32-byte ``bytes``), so a caller can stream them
from a database without holding the records. Roots are computed iteratively (no recursion),
fast enough for millions of leaves; :class:`TreeBuilder` keeps only the O(log n) "frontier"
(the roots of the perfect subtrees matching the set bits of the size) so a tree can be
extended from a stored state without re-reading old leaves.

Proofs follow RFC 6962 ``PATH`` and ``PROOF``/``SUBPROOF`` (ordered from the leaf
upwards), and are verified with the RFC 9162 section 2.1.3.2 and 2.1.4.2 algorithms.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "TreeBuilder",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

_sha256 = hashlib.sha256
_LEAF = b"\x00"
_NODE = b"\x01"

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""Root hash of the tree with no leaves: SHA-256 of the empty string."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes.")


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 6962 MTH) of the given leaf hashes.

    Computed level by level: pair neighbours, carry an odd last node up unchanged. This
    builds exactly the RFC 6962 left-complete tree, without recursion.
    """
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    if set(map(len, level)) != {HASH_SIZE}:
        raise ValueError(f"Every leaf hash must be {HASH_SIZE} bytes.")
    sha = _sha256
    node = _NODE
    while len(level) > 1:
        carry = level[-1] if len(level) & 1 else None
        pairs = iter(level)
        level = [
            sha(node + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        if carry is not None:
            level.append(carry)
    return bytes(level[0])


class TreeBuilder:
    """Streaming Merkle tree: append leaf hashes one by one, read the root at any size.

    Keeps the frontier (one hash per set bit of ``size``, largest subtree first), so memory
    is O(log n). ``state()`` / ``from_state()`` let a caller persist the frontier after a
    checkpoint and later extend the same tree with only the new leaves.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        """Start an empty tree."""
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, frontier: Sequence[bytes]) -> TreeBuilder:
        """Rebuild a builder from ``state()`` output; raise ValueError if it is inconsistent."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("The tree size must be a non-negative integer.")
        expected = size.bit_count()
        if len(frontier) != expected:
            raise ValueError(
                f"A tree of size {size} has a frontier of {expected} hashes, not {len(frontier)}."
            )
        for item in frontier:
            _check_hash(item, "Each frontier hash")
        builder = cls()
        builder._size = size
        builder._frontier = [bytes(item) for item in frontier]
        return builder

    def state(self) -> tuple[int, list[bytes]]:
        """Return ``(size, frontier)``: everything needed to resume this tree later."""
        return self._size, list(self._frontier)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes) at index ``size``."""
        _check_hash(leaf_hash, "A leaf hash")
        frontier = self._frontier
        value = bytes(leaf_hash)
        self._size += 1
        merges = self._size
        # Each trailing zero bit of the new size closes one perfect subtree.
        while not merges & 1:
            value = _sha256(_NODE + frontier.pop() + value).digest()
            merges >>= 1
        frontier.append(value)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes in order."""
        frontier = self._frontier
        sha = _sha256
        node = _NODE
        size = self._size
        try:
            for item in leaf_hashes:
                if len(item) != HASH_SIZE:
                    raise ValueError(f"A leaf hash must be {HASH_SIZE} bytes.")
                value = bytes(item)
                size += 1
                merges = size
                while not merges & 1:
                    value = sha(node + frontier.pop() + value).digest()
                    merges >>= 1
                frontier.append(value)
        finally:
            self._size = size

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of the leaves appended so far."""
        frontier = self._frontier
        if not frontier:
            return EMPTY_ROOT
        value = frontier[-1]
        for left in reversed(frontier[:-1]):
            value = _sha256(_NODE + left + value).digest()
        return value

    def __len__(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def __repr__(self) -> str:
        """Show the size and current root."""
        return f"TreeBuilder(size={self._size}, root={self.root().hex()})"


def _mth(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    return root_from_leaf_hashes(hashes[start:end])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the RFC 6962 audit path for leaf ``index`` in the tree of ``leaf_hashes``.

    The path is ordered from the leaf's sibling up to the child of the root. Costs about
    ``len(leaf_hashes)`` hash operations.
    """
    size = len(leaf_hashes)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise ValueError(f"Leaf index {index} is not in a tree of {size} leaves.")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            path.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:
            path.append(_mth(leaf_hashes, start, start + k))
            start += k
    path.reverse()
    return path


def verify_inclusion(
    index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an audit path with the RFC 9162 section 2.1.3.2 algorithm; True if it leads to root."""
    if isinstance(index, bool) or isinstance(tree_size, bool):
        return False
    if not isinstance(index, int) or not isinstance(tree_size, int):
        return False
    if index < 0 or index >= tree_size:
        return False
    if any(len(p) != HASH_SIZE for p in proof) or len(leaf_hash) != HASH_SIZE:
        return False
    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, bytes(root))


def consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the RFC 6962 consistency proof that the first ``m`` leaves are a prefix.

    ``m`` must satisfy ``0 <= m <= len(leaf_hashes)``; the proof is empty when ``m`` is 0
    or equals the tree size.
    """
    n = len(leaf_hashes)
    if isinstance(m, bool) or not isinstance(m, int) or not 0 <= m <= n:
        raise ValueError(f"Old tree size {m} is not between 0 and the tree size {n}.")
    if m in (0, n):
        return []
    proof: list[bytes] = []
    start, end, first, complete = 0, n, m, True
    # SUBPROOF(m, D[start:end], complete), unrolled; elements are collected top-down.
    while first != end - start:
        k = _largest_power_of_two_below(end - start)
        if first <= k:
            proof.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:
            proof.append(_mth(leaf_hashes, start, start + k))
            start += k
            first -= k
            complete = False
    if not complete:
        proof.append(_mth(leaf_hashes, start, end))
    proof.reverse()
    return proof


def verify_consistency(
    m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof with the RFC 9162 section 2.1.4.2 algorithm.

    True when the tree of size ``n`` with ``root_n`` extends the tree of size ``m`` with
    ``root_m``. ``m == n`` needs an empty proof and equal roots; ``m == 0`` needs an empty
    proof and the empty-tree root.
    """
    for value in (m, n):
        if isinstance(value, bool) or not isinstance(value, int):
            return False
    if m < 0 or n < m:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    if m == n:
        return not proof and hmac.compare_digest(bytes(root_m), bytes(root_n))
    if m == 0:
        return not proof and hmac.compare_digest(bytes(root_m), EMPTY_ROOT)
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m is an exact power of two: the old root is itself a node
        path.insert(0, bytes(root_m))
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return (
        sn == 0
        and hmac.compare_digest(fr, bytes(root_m))
        and hmac.compare_digest(sr, bytes(root_n))
    )
