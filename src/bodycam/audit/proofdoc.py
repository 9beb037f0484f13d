"""The inclusion-proof document given to outsiders, checked by ``tools/verify_proof.py``.

A proof document is one JSON object::

    {"format": "bodycam-audit-inclusion-proof/1",
     "record": {...},                 the audit record exactly as hashed (canonical_bytes)
     "leaf_hash": "<hex>",            SHA-256(0x00 || canonical_bytes(record))
     "leaf_index": 41,                the record's position (seq), counting from 0
     "tree_size": 1000,               size of the tree the path and checkpoint describe
     "root_hash": "<hex>",            root of that tree (equal to the checkpoint's root)
     "inclusion_path": ["<hex>", ...],  RFC 6962 audit path, from the leaf upwards
     "checkpoint": "<signed note>",   the Ed25519-signed checkpoint for tree_size
     "consistency": null}             or {"from_tree_size": m, "to_tree_size": n,
                                          "path": ["<hex>", ...]}: an RFC 6962
                                          consistency proof from an older tree of size m

Hashes are lowercase hexadecimal. The document builder refuses to emit a proof that does not
verify, so a failure in the standalone verifier always means something was changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import HASH_SIZE, leaf_hash, verify_consistency, verify_inclusion
from bodycam.audit.signing import parse_signed_checkpoint

__all__ = ["PROOF_FORMAT", "build_proof_document", "consistency_section"]

PROOF_FORMAT = "bodycam-audit-inclusion-proof/1"
"""Value of the ``format`` field of every proof document."""


def _hex_list(hashes: Sequence[bytes], what: str) -> list[str]:
    for item in hashes:
        if len(item) != HASH_SIZE:
            raise ValueError(f"Every {what} hash must be {HASH_SIZE} bytes.")
    return [bytes(item).hex() for item in hashes]


def consistency_section(
    from_tree_size: int, to_tree_size: int, proof: Sequence[bytes]
) -> dict[str, Any]:
    """Return the ``consistency`` member for a proof from size ``from`` to size ``to``."""
    if not 0 <= from_tree_size <= to_tree_size:
        raise ValueError(
            f"A consistency proof goes from a smaller tree to a larger one, "
            f"not from {from_tree_size} to {to_tree_size}."
        )
    return {
        "from_tree_size": from_tree_size,
        "to_tree_size": to_tree_size,
        "path": _hex_list(proof, "consistency proof"),
    }


def build_proof_document(
    record: Mapping[str, Any],
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    signed_checkpoint: str,
    consistency: Mapping[str, Any] | None = None,
    *,
    previous_root: bytes | None = None,
) -> dict[str, Any]:
    """Assemble the proof document for one record; raise ValueError if it would not verify.

    ``consistency`` is the output of :func:`consistency_section` (or None). When
    ``previous_root`` (the older tree's root) is given, the consistency proof is checked too.
    """
    checkpoint, _, _, _ = parse_signed_checkpoint(signed_checkpoint)
    if checkpoint.tree_size != tree_size:
        raise ValueError(
            f"The checkpoint is for tree size {checkpoint.tree_size}, not {tree_size}."
        )
    data = canonical_bytes(record)
    leaf = leaf_hash(data)
    path = _hex_list(proof, "inclusion path")
    if not verify_inclusion(index, tree_size, leaf, proof, checkpoint.root):
        raise ValueError(
            f"The inclusion path for leaf {index} does not lead to the checkpoint root "
            f"of tree size {tree_size}."
        )
    section: dict[str, Any] | None = None
    if consistency is not None:
        section = {
            "from_tree_size": int(consistency["from_tree_size"]),
            "to_tree_size": int(consistency["to_tree_size"]),
            "path": [str(item) for item in consistency["path"]],
        }
        if section["to_tree_size"] != tree_size:
            raise ValueError(
                f"The consistency proof ends at tree size {section['to_tree_size']}, "
                f"not at the proof's tree size {tree_size}."
            )
        if previous_root is not None and not verify_consistency(
            section["from_tree_size"],
            tree_size,
            previous_root,
            checkpoint.root,
            [bytes.fromhex(item) for item in section["path"]],
        ):
            raise ValueError("The consistency proof does not verify against the previous root.")
    return {
        "format": PROOF_FORMAT,
        "record": json.loads(data.decode("utf-8")),
        "leaf_hash": leaf.hex(),
        "leaf_index": index,
        "tree_size": tree_size,
        "root_hash": checkpoint.root.hex(),
        "inclusion_path": path,
        "checkpoint": signed_checkpoint,
        "consistency": section,
    }
