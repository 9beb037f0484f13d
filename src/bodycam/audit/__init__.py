"""Append-only audit log: canonical records, Merkle tree, signed checkpoints, proofs."""
