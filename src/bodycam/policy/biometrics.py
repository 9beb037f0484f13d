"""Evidence that bodycam has no path to face search, checked against the code itself.

The policy's biometric rule (face detection only to redact, never face search) is scored
from what the installed code does, not from what the policy says:

* :func:`scan_source` parses every Python file of the ``bodycam`` package (its syntax
  tree, not its text) and reports imports of face-recognition, face-embedding or
  vector-search libraries, and functions or classes whose names say they search, match,
  identify, encode or embed faces;
* :func:`installed_face_libraries` reports such libraries installed in the environment;
* :func:`detection_fields` lists what a detector returns for a face: a box, a score and a
  label, nothing that identifies a person.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Final

FACE_LIBRARIES: Final = frozenset(
    {
        "face_recognition",
        "face_recognition_models",
        "dlib",
        "insightface",
        "facenet_pytorch",
        "facenet",
        "deepface",
        "arcface",
        "face_alignment",
        "mtcnn",
        "retinaface",
        "faiss",
        "faiss_cpu",
        "faiss_gpu",
        "hnswlib",
        "annoy",
        "pgvector",
        "chromadb",
        "open_clip",
        "clip",
    }
)
"""Libraries that recognise, embed or search faces (or index embeddings for search)."""

_NAME: Final = re.compile(
    r"(faces?_?(search|match|recogni[sz]|embed|encod|identif|descriptor|distance|compare|lookup)"
    r"|(search|match|identify|compare|embed|encode|recogni[sz]e|lookup)_?(by_)?faces?\b"
    r"|face_?print|face_?id\b)",
    re.IGNORECASE,
)
"""Names of functions and classes that would search or identify faces."""
_FORBIDDEN_CALLS: Final = frozenset(
    {"face_encodings", "compare_faces", "face_distance", "get_embedding", "represent", "find"}
)
"""Face-recognition library calls (``face_recognition``, ``deepface``) when imported."""


@dataclass(frozen=True)
class Finding:
    """One place in the code that could be a path to face search."""

    file: str
    line: int
    what: str


def _module_root(name: str) -> str:
    return name.split(".")[0].lower()


def scan_file(path: Path, shown: str) -> list[Finding]:
    """The findings in one Python file (``shown``: the name to report it under)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError, OSError) as exc:
        return [Finding(shown, 0, f"cannot be checked: {exc}")]
    found: list[Finding] = []
    imported_face = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _module_root(alias.name) in FACE_LIBRARIES:
                    imported_face = True
                    found.append(Finding(shown, node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if _module_root(node.module) in FACE_LIBRARIES:
                imported_face = True
                found.append(Finding(shown, node.lineno, f"imports from {node.module}"))
        elif isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ) and _NAME.search(node.name):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            found.append(Finding(shown, node.lineno, f"defines {kind} {node.name}"))
    if imported_face:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                if name in _FORBIDDEN_CALLS:
                    found.append(Finding(shown, node.lineno, f"calls {name}"))
    return found


def package_root() -> Path:
    """The folder of the installed ``bodycam`` package."""
    return Path(__file__).resolve().parent.parent


def scan_source(root: Path | None = None) -> tuple[int, list[Finding]]:
    """(files checked, findings) over every ``.py`` file under ``root`` (the package)."""
    base = root or package_root()
    files = sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)
    findings: list[Finding] = []
    for path in files:
        stat = path.stat()
        shown = str(path.relative_to(base.parent))
        findings += _scan_cached(path, shown, stat.st_mtime_ns, stat.st_size)
    return len(files), findings


@lru_cache(maxsize=4096)
def _scan_cached(path: Path, shown: str, mtime_ns: int, size: int) -> tuple[Finding, ...]:
    """One file's findings, remembered while the file is unchanged (same time and size)."""
    return tuple(scan_file(path, shown))


def installed_face_libraries() -> list[str]:
    """Distributions installed in this environment that recognise or search faces."""
    names = set()
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("-", "_")
        if name in FACE_LIBRARIES:
            names.add(name)
    return sorted(names)


def detection_fields() -> list[str]:
    """The fields a detector returns per detection (bodycam.redaction.detect.Detection)."""
    from bodycam.redaction.detect import Detection

    return [f.name for f in dataclasses.fields(Detection)]


BOX_FIELDS: Final = ("x1", "y1", "x2", "y2", "score", "label")
"""What a detection may carry: where the face is and how sure the detector is."""
