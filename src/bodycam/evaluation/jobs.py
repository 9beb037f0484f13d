"""Job handlers of the evaluation domain: an uploaded evaluation's report is written as a job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bodycam.evaluation.runs import EVALUATION_JOB, EvaluationError, Library, run_evaluation
from bodycam.jobs.runner import PermanentJobError, Progress, handler

if TYPE_CHECKING:
    from bodycam.context import Context


@handler(EVALUATION_JOB)
def evaluation_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Write the report (HTML, PDF, estimates) and the page data of a stored evaluation."""
    try:
        return run_evaluation(Library.from_context(ctx), params["evaluation_id"], progress)
    except (EvaluationError, LookupError) as exc:  # its inputs cannot change: no retry helps
        raise PermanentJobError(str(exc)) from None
