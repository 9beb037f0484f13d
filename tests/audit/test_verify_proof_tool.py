"""The standalone verifier tools/verify_proof.py, run as an outsider would run it.

The script is copied to a temporary folder and run with ``python -I`` (no PYTHONPATH, no
script folder on sys.path); one test also blocks every ``bodycam`` import while it runs.
Also checks the canonical record serialization, which the script re-implements.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
)
from bodycam.audit.proofdoc import PROOF_FORMAT, build_proof_document, consistency_section
from bodycam.audit.signing import Checkpoint, public_key_pem, sign_checkpoint

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "verify_proof.py"
ORIGIN = "bodycam.audit/agency-0042"
NAME = "bodycam.audit/agency-0042"
WHEN = datetime(2026, 11, 23, 23, 30, 0, 123456, tzinfo=UTC)
N = 37
INDEX = 21
OLD_SIZE = 13


def make_record(seq: int) -> dict[str, Any]:
    return {
        "id": f"01JDQ{seq:021d}",
        "seq": seq,
        "at": f"2026-11-23T23:{seq % 60:02d}:00.123456Z",
        "actor": "officer.ortiz" if seq % 2 else "records.unit",
        "action": "evidence.view",
        "object_type": "recording",
        "object_id": f"rec-{seq}",
        "ip": "10.0.0.7",
        "details": {
            "reason": 'Caso número 5 — café "quoted"\n\ttab\x01',
            "frames": [1, 2, -3],
            "export": seq % 3 == 0,
            "case": None,
        },
    }


@dataclass
class Log:
    records: list[dict[str, Any]]
    leaves: list[bytes]
    key: Ed25519PrivateKey
    folder: Path
    script: Path
    key_file: Path

    def checkpoint(self, size: int, key: Ed25519PrivateKey | None = None) -> str:
        cp = Checkpoint(ORIGIN, size, root_from_leaf_hashes(self.leaves[:size]), WHEN)
        return sign_checkpoint(cp, key or self.key, NAME)

    def document(self, index: int = INDEX, consistency_from: int | None = None) -> dict[str, Any]:
        section = None
        if consistency_from is not None:
            section = consistency_section(
                consistency_from, N, consistency_proof(consistency_from, self.leaves)
            )
        return build_proof_document(
            self.records[index],
            index,
            N,
            inclusion_proof(index, self.leaves),
            self.checkpoint(N),
            section,
            previous_root=(
                root_from_leaf_hashes(self.leaves[:consistency_from])
                if consistency_from is not None
                else None
            ),
        )

    def write(self, name: str, content: dict[str, Any] | str) -> Path:
        path = self.folder / name
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, proof: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", str(self.script), str(proof), "--public-key",
             str(self.key_file), *extra],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip


@pytest.fixture
def log(tmp_path: Path) -> Log:
    folder = tmp_path / "outsider"
    folder.mkdir()
    script = folder / "verify_proof.py"
    shutil.copy(SCRIPT, script)
    records = [make_record(seq) for seq in range(N)]
    key = Ed25519PrivateKey.generate()
    key_file = folder / "agency.pem"
    key_file.write_text(public_key_pem(key))
    leaves = [leaf_hash(canonical_bytes(r)) for r in records]
    return Log(records, leaves, key, folder, script, key_file)


def test_document_shape(log: Log) -> None:
    doc = log.document()
    assert list(doc) == [
        "format",
        "record",
        "leaf_hash",
        "leaf_index",
        "tree_size",
        "root_hash",
        "inclusion_path",
        "checkpoint",
        "consistency",
    ]
    assert doc["format"] == PROOF_FORMAT
    assert doc["record"] == log.records[INDEX]
    assert doc["leaf_hash"] == log.leaves[INDEX].hex()
    assert doc["root_hash"] == root_from_leaf_hashes(log.leaves).hex()
    assert doc["consistency"] is None
    json.dumps(doc)  # plain JSON


def test_builder_refuses_proofs_that_do_not_verify(log: Log) -> None:
    path = inclusion_proof(INDEX, log.leaves)
    with pytest.raises(ValueError, match="does not lead to the checkpoint root"):
        build_proof_document(log.records[INDEX + 1], INDEX, N, path, log.checkpoint(N))
    with pytest.raises(ValueError, match="checkpoint is for tree size"):
        build_proof_document(log.records[INDEX], INDEX, N - 1, path, log.checkpoint(N))
    with pytest.raises(ValueError, match="does not verify against the previous root"):
        build_proof_document(
            log.records[INDEX],
            INDEX,
            N,
            path,
            log.checkpoint(N),
            consistency_section(OLD_SIZE, N, consistency_proof(OLD_SIZE, log.leaves)),
            previous_root=root_from_leaf_hashes(log.leaves[: OLD_SIZE + 1]),
        )


def test_valid_proof_passes(log: Log) -> None:
    for index in (0, INDEX, N - 1):
        result = log.run(log.write(f"proof-{index}.json", log.document(index)))
        assert result.returncode == 0, result.stderr
        last = result.stdout.strip().splitlines()[-1]
        assert last == (
            f"OK: record {log.records[index]['id']} is entry {index} of {N} in the log signed "
            f"by {NAME} at 2026-11-23T23:30:00.123456Z"
        )
    named = log.run(log.write("p.json", log.document()), "--key-name", NAME)
    assert named.returncode == 0, named.stderr


def test_script_imports_nothing_from_bodycam(log: Log) -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "bodycam" not in imported
    assert imported <= set(sys.stdlib_module_names) | {"cryptography", "__future__"}
    # Run it with every bodycam import made impossible.
    proof = log.write("proof.json", log.document())
    blocker = (
        "import sys, runpy\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'bodycam':\n"
        "            raise ImportError('bodycam is off limits')\n"
        "sys.meta_path.insert(0, Block())\n"
        "for name in [m for m in sys.modules if m.startswith('bodycam')]:\n"
        "    del sys.modules[name]\n"
        f"sys.argv = ['verify_proof.py', {str(proof)!r}, '--public-key', {str(log.key_file)!r}]\n"
        "try:\n"
        "    runpy.run_path('verify_proof.py', run_name='__main__')\n"
        "finally:\n"
        "    assert not [m for m in sys.modules if m.startswith('bodycam')]\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", blocker],
        cwd=log.folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: record")


def _swap_path(doc: dict[str, Any]) -> None:
    path = doc["inclusion_path"]
    path[0], path[1] = path[1], path[0]


def _resign_with_other_key(doc: dict[str, Any]) -> None:
    other = Ed25519PrivateKey.generate()
    body = doc["checkpoint"].split("\n\n")[0]
    size = int(body.split("\n")[1])
    cp = Checkpoint(ORIGIN, size, bytes.fromhex(doc["root_hash"]), WHEN)
    doc["checkpoint"] = sign_checkpoint(cp, other, NAME)


def _alter_checkpoint_root(doc: dict[str, Any]) -> None:
    lines = doc["checkpoint"].split("\n")
    lines[2] = ("A" if lines[2][0] != "A" else "B") + lines[2][1:]
    doc["checkpoint"] = "\n".join(lines)


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        doc[field] = value

    return mutate


def _change_record(doc: dict[str, Any]) -> None:
    doc["record"]["actor"] = "someone.else"


def _change_record_and_leaf(doc: dict[str, Any]) -> None:
    doc["record"]["details"]["export"] = not doc["record"]["details"]["export"]
    doc["leaf_hash"] = leaf_hash(canonical_bytes(doc["record"])).hex()


TAMPERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("record field", _change_record, "record body does not hash to the leaf hash"),
    ("record and leaf", _change_record_and_leaf, "path does not lead to the root"),
    ("swapped path", _swap_path, "path does not lead to the root"),
    ("wrong index", _set("leaf_index", INDEX + 1), "path does not lead to the root"),
    ("index too big", _set("leaf_index", N), "leaf index 37 is outside a tree of 37"),
    ("short path", lambda d: d["inclusion_path"].pop(), "path does not lead to the root"),
    ("tree size", _set("tree_size", N + 1), "tree size (38) differs from the tree size in the"),
    ("other key", _resign_with_other_key, "checkpoint signature is invalid"),
    ("checkpoint root", _alter_checkpoint_root, "checkpoint signature by"),
    ("proof root", _set("root_hash", "ab" * 32), "checkpoint root differs from the proof root"),
    ("format", _set("format", "something/2"), "malformed JSON for this tool"),
    ("float", lambda d: d["record"].update(score=1.5), "malformed JSON"),
    ("hex case", _set("leaf_hash", "AB" * 32), "leaf_hash is not a 64-digit lowercase hex"),
    ("bool index", _set("leaf_index", True), "leaf_index is not a non-negative integer"),
    ("no record", _set("record", None), "record is not a JSON object"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [t[1:] for t in TAMPERS], ids=[t[0] for t in TAMPERS]
)
def test_tampering_is_detected(
    log: Log, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = log.document()
    mutate(doc)
    result = log.run(log.write("tampered.json", doc))
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("FAILED: ")
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_checkpoint_for_another_root_signed_by_the_real_key(log: Log) -> None:
    """The server signs a checkpoint of another tree: the proof root no longer matches."""
    doc = log.document()
    doc["checkpoint"] = log.checkpoint(N).replace(
        log.checkpoint(N).split("\n")[2], log.checkpoint(N - 1).split("\n")[2]
    )
    cp = Checkpoint(ORIGIN, N, root_from_leaf_hashes(log.leaves[:-1]), WHEN)
    doc["checkpoint"] = sign_checkpoint(cp, log.key, NAME)
    result = log.run(log.write("p.json", doc))
    assert result.returncode == 1
    assert "checkpoint root differs from the proof root" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is malformed JSON"),
        ("", "is malformed JSON"),
        ('{"format": 1, "format": 2}', "duplicate key"),
        ('{"x": NaN}', "malformed JSON"),
        ("[]", "malformed JSON for this tool"),
    ],
)
def test_garbage_files(log: Log, text: str, message: str) -> None:
    result = log.run(log.write("garbage.json", text))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_key_name_missing_files_and_bad_key(log: Log) -> None:
    proof = log.write("p.json", log.document())
    result = log.run(proof, "--key-name", "someone-else")
    assert result.returncode == 1
    assert "signature is invalid: no signature by key name 'someone-else'" in result.stderr
    missing = log.run(log.folder / "nope.json")
    assert missing.returncode == 1
    assert "Cannot read the proof file" in missing.stderr
    log.key_file.write_text("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n")
    bad_key = log.run(proof)
    assert bad_key.returncode == 1
    assert "is not a PEM public key" in bad_key.stderr


def test_previous_checkpoint_consistency(log: Log) -> None:
    proof = log.write("p.json", log.document(consistency_from=OLD_SIZE))
    old = log.write("old-checkpoint.txt", log.checkpoint(OLD_SIZE))
    result = log.run(proof, "--previous-checkpoint", str(old))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == (
        f"OK: the log only grew from {OLD_SIZE} entries (checkpoint at "
        f"2026-11-23T23:30:00.123456Z) to {N}"
    )
    assert lines[-1].startswith(f"OK: record {log.records[INDEX]['id']} is entry {INDEX}")
    # Without --previous-checkpoint the consistency proof is only mentioned.
    plain = log.run(proof)
    assert plain.returncode == 0
    assert "pass --previous-checkpoint" in plain.stdout
    # Same size as the current checkpoint: no proof needed, roots must match.
    same = log.run(proof, "--previous-checkpoint", str(log.write("same.txt", log.checkpoint(N))))
    assert same.returncode == 0, same.stderr
    # A checkpoint of the empty log is consistent with everything, without a proof.
    empty = log.write("empty.txt", log.checkpoint(0))
    from_empty = log.run(log.write("p0.json", log.document()), "--previous-checkpoint", str(empty))
    assert from_empty.returncode == 0, from_empty.stderr


def test_previous_checkpoint_detects_rewritten_history(log: Log) -> None:
    proof = log.write("p.json", log.document(consistency_from=OLD_SIZE))
    # The outsider kept a checkpoint of the log *before* the server rewrote record 3.
    original = list(log.leaves)
    original[3] = leaf_hash(b"the record as it was when the outsider saw it")
    old_cp = Checkpoint(ORIGIN, OLD_SIZE, root_from_leaf_hashes(original[:OLD_SIZE]), WHEN)
    old = log.write("old.txt", sign_checkpoint(old_cp, log.key, NAME))
    result = log.run(proof, "--previous-checkpoint", str(old))
    assert result.returncode == 1
    assert "consistency proof fails" in result.stderr
    assert "earlier records were changed, removed or reordered" in result.stderr


def test_previous_checkpoint_other_failures(log: Log) -> None:
    no_section = log.write("p.json", log.document())
    old = log.write("old.txt", log.checkpoint(OLD_SIZE))
    result = log.run(no_section, "--previous-checkpoint", str(old))
    assert result.returncode == 1
    assert f"no consistency proof from tree size {OLD_SIZE} to {N}" in result.stderr

    bigger_cp = Checkpoint(ORIGIN, N + 5, root_from_leaf_hashes(log.leaves), WHEN)
    bigger = log.write("bigger.txt", sign_checkpoint(bigger_cp, log.key, NAME))
    result = log.run(no_section, "--previous-checkpoint", str(bigger))
    assert result.returncode == 1
    assert "The log shrank" in result.stderr

    foreign = log.write("foreign.txt", log.checkpoint(OLD_SIZE, Ed25519PrivateKey.generate()))
    result = log.run(no_section, "--previous-checkpoint", str(foreign))
    assert result.returncode == 1
    assert "signature is invalid" in result.stderr

    same_size_other_root = Checkpoint(ORIGIN, N, root_from_leaf_hashes(log.leaves[:-1]), WHEN)
    other = log.write("other.txt", sign_checkpoint(same_size_other_root, log.key, NAME))
    result = log.run(no_section, "--previous-checkpoint", str(other))
    assert result.returncode == 1
    assert "consistency proof fails" in result.stderr

    doc = log.document(consistency_from=OLD_SIZE)
    doc["consistency"]["path"][0] = "00" * 32
    result = log.run(log.write("bad.json", doc), "--previous-checkpoint", str(old))
    assert result.returncode == 1
    assert "consistency proof fails" in result.stderr


# --- the canonical form, and the script's independent re-implementation ---------------------


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_proof_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_canonical_bytes_exact_form() -> None:
    record = {"b": 1, "a": [True, None, 'é\n\x01"\\/', -12], "A": {}, "é": "\u2028", "z": False}
    assert (
        canonical_bytes(record)
        == (
            '{"A":{},"a":[true,null,"é\\n\\u0001\\"\\\\/",-12],"b":1,"z":false,"é":"\u2028"}'
        ).encode()
    )
    assert canonical_bytes({"t": (1, 2)}) == b'{"t":[1,2]}'
    assert canonical_bytes({}) == b"{}"
    assert canonical_bytes({"big": 2**80}) == b'{"big":1208925819614629174706176}'


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"x": 1.0}, r"record\['x'\] is a float"),
        ({"d": {"y": [1, 2.5]}}, r"record\['d'\]\['y'\]\[1\] is a float"),
        ({"d": {1: "x"}}, "keys must be strings"),
        ({"when": datetime(2026, 1, 1, tzinfo=UTC)}, "type datetime"),
        ({"b": b"bytes"}, "type bytes"),
    ],
)
def test_canonical_bytes_rejects_other_types(record: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        canonical_bytes(record)


def test_canonical_bytes_rejects_surrogates_and_non_mappings() -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        canonical_bytes({"x": "\ud800"})
    with pytest.raises(TypeError, match="must be a mapping"):
        canonical_bytes([1, 2])  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(record=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_script_canonical_form_matches_package(tool: ModuleType, record: dict[str, Any]) -> None:
    expected = canonical_bytes(record)
    assert tool.canonical(record) == expected
    # What the outsider parses from the proof file serializes to the same bytes.
    assert tool.canonical(json.loads(expected)) == expected
    assert tool.leaf_hash(expected) == leaf_hash(expected)
