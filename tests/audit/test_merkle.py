"""RFC 6962 Merkle tree: known Certificate Transparency vectors and property tests.

Every fixed vector below comes from the certificate-transparency reference test suites
(google/certificate-transparency python/ct/crypto/merkle_test.py, "lifted from the C++
branch"); everything else is checked against the naive recursive definitions written here
straight from RFC 6962 section 2.1.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bodycam.audit.merkle import (
    EMPTY_ROOT,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# --- naive reference implementation, straight from RFC 6962 section 2.1 ---------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    """MTH over raw leaf *hashes* (recursive, as written in the RFC)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _k(n)
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def naive_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    if m in (0, len(leaves)):
        return []
    return naive_subproof(m, leaves, True)


def make_leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"record {salt}/{i}".encode()) for i in range(n)]


# --- known vectors ---------------------------------------------------------------------------

CT_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_LEAVES = [leaf_hash(d) for d in CT_INPUTS]

# (old size, new size, consistency proof), from the CT reference tests.
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# A real inclusion proof from a CT log (the CT reference test "sha256_audit_path").
CT_LOG_LEAF = bytes.fromhex("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78")
CT_LOG_INDEX = 848049
CT_LOG_SIZE = 3630887
CT_LOG_ROOT = bytes.fromhex("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb")
CT_LOG_PATH = [
    bytes.fromhex(h)
    for h in [
        "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
        "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
        "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
        "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
        "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
        "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
        "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
        "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
        "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
        "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
        "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
        "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
        "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
        "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
        "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
        "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
        "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
        "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
        "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
        "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
        "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
        "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
    ]
]


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_hash_primitives_match_ct_vectors() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert TreeBuilder().root() == EMPTY_ROOT
    assert leaf_hash(b"").hex() == CT_ROOTS[0]
    assert (
        leaf_hash(bytes.fromhex("101112131415161718191a1b1c1d1e1f")).hex()
        == "3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a"
    )
    left = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    right = bytes.fromhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
    assert (
        node_hash(left, right).hex()
        == "1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_ct_vectors(size: int) -> None:
    leaves = CT_LEAVES[:size]
    assert root_from_leaf_hashes(leaves).hex() == CT_ROOTS[size - 1]
    assert naive_mth(leaves).hex() == CT_ROOTS[size - 1]
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    assert builder.root().hex() == CT_ROOTS[size - 1]
    assert builder.size == size == len(builder)


def test_inclusion_proofs_match_ct_vectors() -> None:
    root = bytes.fromhex(CT_ROOTS[7])
    # Leaf 0 of 8: its audit path is the (1, 8) consistency proof.
    assert _hexes(inclusion_proof(0, CT_LEAVES)) == CT_CONSISTENCY[1][2]
    # Leaf 5 of 8: leaf(d4), MTH(d6..d7), MTH(d0..d3) - each named in the CT vectors above.
    assert _hexes(inclusion_proof(5, CT_LEAVES)) == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    for size in range(1, 9):
        sub_root = bytes.fromhex(CT_ROOTS[size - 1])
        for index in range(size):
            proof = inclusion_proof(index, CT_LEAVES[:size])
            assert proof == naive_path(index, CT_LEAVES[:size])
            assert verify_inclusion(index, size, CT_LEAVES[index], proof, sub_root)
    assert verify_inclusion(0, 1, CT_LEAVES[0], [], bytes.fromhex(CT_ROOTS[0]))
    assert not verify_inclusion(0, 8, CT_LEAVES[0], [], root)


def test_real_ct_log_inclusion_proof() -> None:
    assert verify_inclusion(CT_LOG_INDEX, CT_LOG_SIZE, CT_LOG_LEAF, CT_LOG_PATH, CT_LOG_ROOT)
    assert not verify_inclusion(
        CT_LOG_INDEX + 1, CT_LOG_SIZE, CT_LOG_LEAF, CT_LOG_PATH, CT_LOG_ROOT
    )
    assert not verify_inclusion(
        CT_LOG_INDEX, CT_LOG_SIZE, CT_LOG_LEAF, CT_LOG_PATH[:-1], CT_LOG_ROOT
    )
    assert not verify_inclusion(
        CT_LOG_INDEX, CT_LOG_SIZE, CT_LOG_LEAF, [*CT_LOG_PATH, CT_LOG_ROOT], CT_LOG_ROOT
    )
    assert not verify_inclusion(CT_LOG_INDEX, CT_LOG_SIZE, CT_LOG_LEAF, CT_LOG_PATH, b"\0" * 32)
    # "too short proof" vector: an index needing a longer path must fail.
    far = CT_LOG_INDEX + 2 ** (len(CT_LOG_PATH) + 1)
    assert not verify_inclusion(far, CT_LOG_SIZE, CT_LOG_LEAF, CT_LOG_PATH, CT_LOG_ROOT)


@pytest.mark.parametrize(("m", "n", "expected"), CT_CONSISTENCY)
def test_consistency_proofs_match_ct_vectors(m: int, n: int, expected: list[str]) -> None:
    leaves = CT_LEAVES[:n]
    proof = consistency_proof(m, leaves)
    assert _hexes(proof) == expected
    root_m, root_n = bytes.fromhex(CT_ROOTS[m - 1]), bytes.fromhex(CT_ROOTS[n - 1])
    assert verify_consistency(m, n, root_m, root_n, proof)


def test_consistency_ct_failure_vectors() -> None:
    root6, root8 = bytes.fromhex(CT_ROOTS[5]), bytes.fromhex(CT_ROOTS[7])
    proof = [bytes.fromhex(h) for h in CT_CONSISTENCY[2][2]]
    flipped6 = root6[:-1] + bytes([root6[-1] ^ 1])
    flipped8 = root8[:-1] + bytes([root8[-1] ^ 1])
    assert not verify_consistency(6, 8, root6, root8, proof[:2])  # proof too short
    assert not verify_consistency(6, 8, root6, flipped8, proof)  # bad second hash
    assert not verify_consistency(6, 8, flipped6, flipped8, proof)  # both bad
    assert not verify_consistency(6, 8, flipped6, root8, proof)  # bad first hash
    assert not verify_consistency(8, 6, root8, root6, proof)  # newer tree smaller
    # Equal sizes: roots must match and the proof must be empty.
    assert verify_consistency(3, 3, root6, root6, [])
    assert not verify_consistency(3, 3, root6, root8, [])
    assert not verify_consistency(3, 3, root6, root6, [root6])
    # From the empty tree: the old root must be the empty root, with an empty proof.
    assert verify_consistency(0, 8, EMPTY_ROOT, root8, [])
    assert not verify_consistency(0, 8, root6, root8, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, root8, [root8])
    assert not verify_consistency(6, 8, root6, root8, [])


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="not in a tree of 8"):
        inclusion_proof(8, CT_LEAVES)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(-1, CT_LEAVES)
    with pytest.raises(ValueError, match="between 0 and the tree size 8"):
        consistency_proof(9, CT_LEAVES)
    assert consistency_proof(0, CT_LEAVES) == []
    assert consistency_proof(8, CT_LEAVES) == []
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_leaf_hashes([b"short", b"x" * 32])
    with pytest.raises(ValueError, match="32 bytes"):
        TreeBuilder().append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        TreeBuilder().extend([b"x" * 32, b"short"])
    with pytest.raises(ValueError, match="frontier of 2 hashes"):
        TreeBuilder.from_state(3, [b"x" * 32])
    with pytest.raises(ValueError, match="non-negative"):
        TreeBuilder.from_state(-1, [])
    assert not verify_inclusion(0, 0, CT_LEAVES[0], [], EMPTY_ROOT)
    assert not verify_inclusion(-1, 8, CT_LEAVES[0], [], EMPTY_ROOT)
    assert not verify_inclusion(0, 2, CT_LEAVES[0], [b"short"], EMPTY_ROOT)


# --- properties ------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=25, deadline=None)
@given(size=sizes, salt=st.integers(0, 10**6))
def test_builders_agree_with_naive_mth(size: int, salt: int) -> None:
    leaves = make_leaves(size, salt)
    expected = naive_mth(leaves)
    assert root_from_leaf_hashes(leaves) == expected
    builder = TreeBuilder()
    for i, leaf in enumerate(leaves):
        builder.append(leaf)
        if i in (0, size // 2, size - 2):
            assert builder.root() == naive_mth(leaves[: i + 1])
    assert builder.root() == expected
    bulk = TreeBuilder()
    bulk.extend(iter(leaves))
    assert bulk.state() == builder.state()
    assert bulk.size == size
    assert repr(bulk) == f"TreeBuilder(size={size}, root={expected.hex()})"


@settings(max_examples=25, deadline=None)
@given(size=sizes, data=st.data())
def test_incremental_extension_from_state(size: int, data: st.DataObject) -> None:
    leaves = make_leaves(size)
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=4)))
    builder = TreeBuilder()
    start = 0
    for cut in [*cuts, size]:
        stored_size, frontier = builder.state()
        assert stored_size == start
        assert len(frontier) == bin(start).count("1")
        builder = TreeBuilder.from_state(stored_size, frontier)  # "reload from the database"
        builder.extend(leaves[start:cut])
        assert builder.root() == naive_mth(leaves[:cut])
        start = cut
    assert builder.root() == root_from_leaf_hashes(leaves)


def _flip(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


@settings(max_examples=20, deadline=None)
@given(size=sizes, data=st.data())
def test_all_inclusion_proofs_verify_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = make_leaves(size)
    root = root_from_leaf_hashes(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(index, size, leaves[index], proof, root)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, leaves)
    assert proof == naive_path(index, leaves)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        byte = data.draw(st.integers(0, 31), label="byte")
        tampered = list(proof)
        tampered[element] = _flip(tampered[element], byte)
        assert not verify_inclusion(index, size, leaves[index], tampered, root)
        assert not verify_inclusion(index, size, leaves[index], proof[:-1], root)
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        assert not verify_inclusion(other, size, leaves[index], proof, root)
        assert not verify_inclusion(index, size, leaves[other], proof, root)
    assert not verify_inclusion(index, size, _flip(leaves[index], 0), proof, root)
    assert not verify_inclusion(index, size, leaves[index], [*proof, root], root)
    # (The tree size itself is not bound by the path - e.g. leaf 0 has the same path in trees
    # of 3 and 4 leaves - which is why the size is taken from the signed checkpoint.)


@settings(max_examples=15, deadline=None)
@given(size=sizes, data=st.data())
def test_consistency_proofs_verify_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = make_leaves(size)
    root_n = root_from_leaf_hashes(leaves)
    roots = [root_from_leaf_hashes(leaves[:m]) for m in range(size + 1)]
    for m in range(size + 1):
        proof = consistency_proof(m, leaves)
        assert verify_consistency(m, size, roots[m], root_n, proof)
    m = data.draw(st.integers(1, size), label="m")
    proof = consistency_proof(m, leaves)
    assert proof == naive_consistency(m, leaves)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        byte = data.draw(st.integers(0, 31), label="byte")
        tampered = list(proof)
        tampered[element] = _flip(tampered[element], byte)
        assert not verify_consistency(m, size, roots[m], root_n, tampered)
        assert not verify_consistency(m, size, roots[m], root_n, proof[:-1])
        assert not verify_consistency(m, size, roots[m], root_n, [*proof, root_n])
    # A rewritten history (one old leaf changed) cannot be proven consistent.
    changed = data.draw(st.integers(0, m - 1), label="changed")
    forged = list(leaves)
    forged[changed] = _flip(forged[changed], 3)
    forged_root = root_from_leaf_hashes(forged)
    assert not verify_consistency(m, size, roots[m], forged_root, consistency_proof(m, forged))
    assert not verify_consistency(m, size, _flip(roots[m], 7), root_n, proof)
    assert not verify_consistency(m, size, roots[m], _flip(root_n, 7), proof)
