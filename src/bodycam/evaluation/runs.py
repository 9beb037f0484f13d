"""Program evaluations kept by this installation: uploaded, checked, run as jobs, read.

An evaluation is one report configuration (the TOML ``bodycam eval report`` reads) with the
files it names (roster, outcome exports, mapping files), uploaded together from the
evaluation page. `create_evaluation` checks them as the command does, with the same
sentences (file, line and column), then in one transaction stores them under
``<home>/evaluation/<id>/input/``, writes the ``evaluation:report:create`` audit record and
queues the job. The job (`run_evaluation`, handler in ``evaluation/jobs.py``) writes the
report folder ``report/`` with `make_report` (``report.html``, ``report.pdf``, the
analysis file, ``estimates.json``) and ``page.json``, what the page shows. A refused
upload leaves nothing behind; an evaluation is never changed once stored.

Reading needs ``evaluation:report:view``; uploading and running ``evaluation:report:run``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.ids import new_id, rfc3339, utcnow

if TYPE_CHECKING:
    from bodycam.context import Context
    from bodycam.evaluation.report import Report, Table
    from bodycam.evaluation.report_config import ReportConfig

__all__ = [
    "DOWNLOADS",
    "EVALUATION_JOB",
    "EvaluationError",
    "EvaluationView",
    "Library",
    "Upload",
    "create_evaluation",
    "get_evaluation",
    "list_evaluations",
    "page_data",
    "report_file",
    "run_evaluation",
]

EVALUATION_JOB: Final = "evaluation.report"
FOLDER: Final = "evaluation"
META: Final = "evaluation.json"
PAGE: Final = "page.json"
DOWNLOADS: Final = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "estimates.json": "application/json",
}
"""The files of an evaluation's report folder a reader may download, with their types."""
MAX_FILE_BYTES: Final = 256 * 1024 * 1024
"""The largest file an evaluation accepts (a roster or an outcome export)."""
MAX_FILES: Final = 20
_ID: Final = re.compile(r"^[0-9A-Z]{26}$")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+-]{0,149}$")


class EvaluationError(ValueError):
    """An upload or a run refused: one sentence (file, line and column where there are
    any), and `details`, the first problems of the file, one per line, as the CLI shows
    them before its sentence."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: its name as the analyst's computer gave it, and its bytes."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True, slots=True)
class Library:
    """Where the evaluations of an installation live: the database (jobs, audit) and the
    folder ``<home>/evaluation``."""

    sessions: sessionmaker[Session]
    folder: Path

    @classmethod
    def from_context(cls, ctx: Context) -> Library:
        """The library of the installation `ctx` opens."""
        return cls(ctx.sessions, ctx.settings.resolved_home / FOLDER)

    def path(self, evaluation_id: str) -> Path:
        """The folder of one evaluation; `LookupError` when there is none."""
        folder = self.folder / evaluation_id
        if not _ID.match(evaluation_id) or not (folder / META).is_file():
            raise LookupError(f"There is no evaluation {evaluation_id}.")
        return folder


@dataclass(frozen=True, slots=True)
class EvaluationView:
    """An evaluation as the pages list and show it.

    `status` is ``queued``, ``running``, ``done`` or ``failed`` (the job's error in
    `error`); `page` is what the job wrote for the page once done (`page_data`).
    """

    id: str
    title: str
    design: str
    config: str
    files: tuple[dict[str, Any], ...]
    created_at: datetime
    created_by: str
    job_id: str
    status: str
    done: int
    total: int
    error: str
    page: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


# --- checking and storing an upload -------------------------------------------------------


def _plain(name: str, what: str) -> str:
    """The uploaded file's name, if it is a plain file name."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or not _NAME.match(base) or base in (".", ".."):
        raise EvaluationError(
            f"The {what} {name!r} has a file name this page cannot store; rename it with "
            "letters, digits, dots, dashes or underscores (e.g. roster.csv)."
        )
    return base


def _save(upload: Upload, folder: Path, what: str) -> dict[str, Any]:
    """Copy one upload into `folder`; its name, size and sha256."""
    import hashlib

    name = _plain(upload.name, what)
    target = folder / name
    if target.exists():
        raise EvaluationError(f"Two uploaded files are named {name}; each name must be unique.")
    digest = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := upload.stream.read(1 << 20):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise EvaluationError(
                    f"{name} is larger than {MAX_FILE_BYTES // (1 << 20)} MiB; an evaluation "
                    "file this large is run with bodycam eval report on the command line."
                )
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {"name": name, "bytes": size, "sha256": digest.hexdigest()}


def _relative(message: str, folder: Path) -> str:
    """A sentence with the stored folder's path taken out: files named as uploaded."""
    return message.replace(f"{folder}{os.sep}", "").replace(str(folder), ".")


def _named_files(config: ReportConfig, config_name: str) -> list[tuple[Path, str]]:
    """Every file the configuration names: (path, the key that names it). A mapping named
    without ``.toml`` or a folder must be a shipped preset: the mapping reader would
    otherwise look for a file of that name in the server's working folder."""
    from bodycam.evaluation.mapping import Kind, preset_names

    named = [(config.roster, "roster.file")]
    mappings: list[tuple[str, str, Kind]] = [(config.roster_mapping, "roster.mapping", "roster")]
    for i, f in enumerate(config.outcome_files, 1):
        named.append((f.path, f"outcome_file[{i}].file"))
        mappings.append((f.mapping, f"outcome_file[{i}].mapping", "outcomes"))
    for mapping, key, kind in mappings:
        if mapping.endswith(".toml") or "/" in mapping or "\\" in mapping:
            named.append((Path(mapping), key))
        elif mapping not in preset_names(kind):
            raise EvaluationError(
                f"{config_name}: {key} names {mapping!r}, which is neither a preset "
                f"({', '.join(preset_names(kind))}) nor a mapping file (name it with .toml "
                "and upload it)."
            )
    return named


def check_inputs(folder: Path, config_name: str) -> ReportConfig:
    """The configuration in `folder`, after reading and estimating everything it names.

    Raises `EvaluationError` with the command's sentence (and its first problems) for a
    bad configuration or bad data, and for a file it names that is not in `folder`.
    """
    from bodycam.evaluation.report import build_report
    from bodycam.evaluation.report_config import ReportConfigError, load_report_config
    from bodycam.evaluation.tables import InputError, shown

    try:
        config = load_report_config(folder / config_name)
    except ReportConfigError as exc:
        raise EvaluationError(_relative(str(exc), folder)) from None
    for path, key in _named_files(config, config_name):
        try:
            parts = path.relative_to(folder).parts
        except ValueError:
            parts = ()
        if len(parts) != 1 or parts[0] in (".", ".."):
            raise EvaluationError(
                f"{config_name}: {key} names {_relative(str(path), folder)!r}; here every file "
                "is named by its plain file name and uploaded beside the configuration."
            )
        if not path.is_file():
            raise EvaluationError(
                f"{config_name}: {key} names {parts[0]}, which was not uploaded; add it to "
                "the data files."
            )
    scratch = Path(tempfile.mkdtemp(prefix=".check-", dir=folder.parent))
    try:
        build_report(config, scratch)
    except ReportConfigError as exc:
        raise EvaluationError(_relative(str(exc), folder)) from None
    except InputError as exc:
        details = shown(exc.source, exc.problems) if len(exc.problems) > 1 else []
        raise EvaluationError(
            _relative(str(exc), folder), [_relative(d, folder) for d in details]
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return config


def _write_json(path: Path, data: Any) -> None:
    """Write `data` as JSON, whole or not at all (a temporary file renamed into place)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, allow_nan=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def create_evaluation(
    lib: Library, actor: Actor, config: Upload | None, data: Sequence[Upload]
) -> EvaluationView:
    """Check, store and queue an evaluation: the configuration and the files it names.

    Refused with `EvaluationError` (the same sentence ``bodycam eval report`` prints) when
    the configuration or its data cannot be used; nothing is stored then. Needs
    ``evaluation:report:run``; audited as ``evaluation:report:create``.
    """
    from bodycam.jobs.runner import submit

    require(lib.sessions, actor, Permission.EVALUATION_RUN, "run a program evaluation")
    if config is None or not config.name:
        raise EvaluationError("Choose the evaluation's configuration (a .toml file).")
    if not config.name.lower().endswith(".toml"):
        raise EvaluationError(
            f"The configuration {config.name!r} is not a .toml file; choose the TOML file that "
            "bodycam eval report reads."
        )
    if len(data) + 1 > MAX_FILES:
        raise EvaluationError(f"Upload at most {MAX_FILES - 1} data files with a configuration.")
    lib.folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=lib.folder))
    evaluation_id = new_id()
    final = lib.folder / evaluation_id
    try:
        inputs = staging / "input"
        inputs.mkdir()
        files = [_save(config, inputs, "configuration")]
        files += [_save(u, inputs, "data file") for u in data if u.name]
        checked = check_inputs(inputs, files[0]["name"])
        meta = {
            "id": evaluation_id,
            "title": checked.title,
            "design": checked.design,
            "config": files[0]["name"],
            "files": files,
            "created_at": rfc3339(utcnow()),
            "created_by": actor.username,
            "created_by_id": actor.user_id,
        }
        with transaction(lib.sessions) as s:
            job = submit(
                s, EVALUATION_JOB, {"evaluation_id": evaluation_id},
                key=f"{EVALUATION_JOB}:{evaluation_id}", created_by=actor.user_id,
            )  # fmt: skip
            meta["job_id"] = job.id
            _write_json(staging / META, meta)
            record(
                s, actor, AuditAction.EVALUATION_REPORT_CREATE, "evaluation", evaluation_id,
                {"title": checked.title, "design": checked.design, "config": files[0]["name"],
                 "files": files, "job": job.id},
            )  # fmt: skip
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        raise
    return _view(lib, final, _jobs(lib.sessions, [str(meta["job_id"])]))


# --- reading ------------------------------------------------------------------------------


def _jobs(factory: sessionmaker[Session], ids: Sequence[str]) -> dict[str, Any]:
    from bodycam.jobs.models import Job

    if not ids:
        return {}
    with factory() as s:
        rows = list(s.scalars(select(Job).where(Job.id.in_(list(ids)))))
        s.expunge_all()
    return {j.id: j for j in rows}


def _view(lib: Library, folder: Path, jobs: dict[str, Any], page: bool = False) -> EvaluationView:
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    job = jobs.get(meta["job_id"])
    done_page = (folder / PAGE).is_file()
    status, done, total, error = "queued", 0, 0, ""
    if job is not None:
        done, total, error = job.done, job.total, job.error or ""
        status = {"quarantined": "failed", "done": "done"}.get(job.status, job.status)
    if status == "done" and not done_page:
        status, error = "failed", "The job ended without writing the page's data."
    if done_page:
        status, error = "done", ""
    return EvaluationView(
        id=meta["id"],
        title=meta["title"],
        design=meta["design"],
        config=meta["config"],
        files=tuple(meta["files"]),
        created_at=datetime.fromisoformat(meta["created_at"].replace("Z", "+00:00")),
        created_by=meta["created_by"],
        job_id=meta["job_id"],
        status=status,
        done=done,
        total=total,
        error=error,
        page=json.loads((folder / PAGE).read_text(encoding="utf-8"))
        if page and done_page
        else None,
    )


def list_evaluations(lib: Library, actor: Actor) -> list[EvaluationView]:
    """Every stored evaluation, newest first (``evaluation:report:view``)."""
    require(lib.sessions, actor, Permission.EVALUATION_VIEW, "read the program evaluations")
    if not lib.folder.is_dir():
        return []
    folders = sorted(
        (p for p in lib.folder.iterdir() if _ID.match(p.name) and (p / META).is_file()),
        key=lambda p: p.name,
        reverse=True,
    )
    metas = [json.loads((p / META).read_text(encoding="utf-8")) for p in folders]
    jobs = _jobs(lib.sessions, [m["job_id"] for m in metas])
    # A folder whose job row is missing was renamed into place by a transaction that then
    # failed to commit (a crash in between): it was never stored, so it is not listed.
    return [_view(lib, p, jobs) for p, m in zip(folders, metas, strict=True) if m["job_id"] in jobs]


def get_evaluation(lib: Library, actor: Actor, evaluation_id: str) -> EvaluationView:
    """One evaluation with its results once its job is done (``evaluation:report:view``)."""
    require(
        lib.sessions, actor, Permission.EVALUATION_VIEW, "read a program evaluation", evaluation_id
    )
    folder = lib.path(evaluation_id)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    jobs = _jobs(lib.sessions, [meta["job_id"]])
    if meta["job_id"] not in jobs:
        raise LookupError(f"There is no evaluation {evaluation_id}.")
    return _view(lib, folder, jobs, page=True)


def report_file(lib: Library, actor: Actor, evaluation_id: str, name: str) -> Path:
    """The report's HTML, PDF or estimates of a finished evaluation (``evaluation:report:view``)."""
    require(
        lib.sessions, actor, Permission.EVALUATION_VIEW, "download an evaluation report",
        evaluation_id,
    )  # fmt: skip
    if name not in DOWNLOADS:
        raise LookupError(f"An evaluation has no file {name!r} to download.")
    path = lib.path(evaluation_id) / "report" / name
    if not (lib.path(evaluation_id) / PAGE).is_file() or not path.is_file():
        raise LookupError(f"The report of evaluation {evaluation_id} is not written yet.")
    return path


# --- running ------------------------------------------------------------------------------


def _table(t: Table) -> dict[str, Any]:
    return {"title": t.title, "headers": list(t.headers), "rows": [list(r) for r in t.rows],
            "note": t.note}  # fmt: skip


def page_data(report: Report) -> dict[str, Any]:
    """What the evaluation page shows, from the report itself: the results at full
    precision, the readings' sentences, each figure (SVG) with its tables, the counts."""
    from bodycam.evaluation.report_render import GUIDE, figure_sections, sources_table

    config = report.config
    return {
        "title": config.title,
        "agency": config.agency,
        "author": config.author,
        "generated_at": rfc3339(report.generated_at),
        "design_type": config.design,
        "design": report.design_text,
        "confidence": config.confidence,
        "period": config.period,
        "results": [r.to_dict() for r in report.results],
        "readings": [
            {"outcome": r.outcome, "headline": g.headline, "sentences": list(g.sentences),
             "warnings": list(g.warnings)}
            for r, g in zip(report.results, report.readings, strict=True)
        ],
        "figures": [
            {"number": f["number"], "title": f["title"], "caption": f["caption"],
             "svg": f["svg"], "tables": [_table(t) for t in f["tables"]]}
            for f in figure_sections(report)
        ],
        "counts": _table(report.counts),
        "sources": _table(sources_table(report)),
        "notes": list(report.notes),
        "guide": list(GUIDE),
        "data_file": report.data_file,
    }  # fmt: skip


def run_evaluation(
    lib: Library, evaluation_id: str, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Write an evaluation's report folder and page data (the job's work; idempotent).

    A report folder left by an attempt that stopped before the page data is written again.
    `EvaluationError` when the inputs cannot be used (they were checked when stored).
    """
    from bodycam.evaluation.report import REPORT_STEPS, make_report
    from bodycam.evaluation.report_config import ReportConfigError
    from bodycam.evaluation.tables import InputError

    folder = lib.path(evaluation_id)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    total = REPORT_STEPS + 1
    if (folder / PAGE).is_file():
        return {"evaluation_id": evaluation_id, "written": False}
    out = folder / "report"
    shutil.rmtree(out, ignore_errors=True)

    def step(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, total)

    inputs = folder / "input"
    try:
        report = make_report(inputs / meta["config"], out, step)
    except (ReportConfigError, InputError) as exc:
        raise EvaluationError(_relative(str(exc), inputs)) from None
    try:
        _write_json(folder / PAGE, page_data(report))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    step(total, total)
    estimated = sum(r.estimate is not None for r in report.results)
    return {"evaluation_id": evaluation_id, "written": True, "outcomes": len(report.results),
            "estimated": estimated}  # fmt: skip
