"""The analyst's pages: program evaluations (upload, progress, results, reports) and the
cost dashboard (a projection with its chart and range, and this installation's actuals).

Reading evaluations needs ``evaluation:report:view``, uploading one
``evaluation:report:run`` (checks and audit records in `bodycam.evaluation.runs`); the cost
pages need ``evaluation:cost:view``. Every number comes from the functions the CLI uses:
`make_report` (through the evaluation's job), `cost.load_inputs` and `cost.project`,
`cost_actuals.cost_actuals` and `inputs_from_actuals`. Figures are inline SVG from
`bodycam.evaluation.charts`, rewritten for the app's Content-Security-Policy (`page_svg`).
"""

from __future__ import annotations

import html
import math
import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.evaluation.cost import ASSUMPTIONS, Assumption, CostError
from bodycam.evaluation.report_reading import UNIT, fmt, fmt_p
from bodycam.evaluation.runs import (
    DOWNLOADS,
    EvaluationError,
    Library,
    Upload,
    create_evaluation,
    get_evaluation,
    list_evaluations,
    report_file,
)
from bodycam.web.deps import CtxDep, PageActor
from bodycam.web.pages import FORM_EXPIRED, _check_csrf, render

if TYPE_CHECKING:
    from bodycam.evaluation.cost import Projection
    from bodycam.evaluation.cost_actuals import Actuals

router = APIRouter(include_in_schema=False)

FORM_ORIGIN = "the projection form"
"""How cost input errors name the form (the CLI names ``--set``)."""
REFRESH_S = 2
"""How often a page waiting on an evaluation's job reloads itself."""
COMPONENTS = ("hardware", "licences", "storage", "redaction", "staff")
DEFAULT_CAMERAS, DEFAULT_YEARS = "400", "5"

# --- figures ------------------------------------------------------------------------------

_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_PROPERTY = re.compile(r"[a-z][a-z-]*")


def page_svg(text: str, prefix: str, label: str) -> Markup:
    """A matplotlib SVG ready to inline in a page of this app.

    The app's Content-Security-Policy refuses inline styles, which is how matplotlib
    writes every colour and font: each ``style="..."`` becomes presentation attributes
    (the same properties), the ``<style>`` rule goes onto the root element, ids get
    `prefix` (several figures share a page), and the figure scales to its column.
    """
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<style[^>]*>.*?</style>\s*", "", text, flags=re.S)

    def attributes(match: re.Match[str]) -> str:
        out = []
        for declaration in match.group(1).split(";"):
            name, sep, value = declaration.partition(":")
            name, value = name.strip(), value.strip()
            if sep and _PROPERTY.fullmatch(name):
                out.append(f' {name}="{html.escape(value, quote=True)}"')
        return "".join(out)

    text = _STYLE_ATTR.sub(attributes, text)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    root = re.match(r"<svg\b[^>]*>", text)
    if root is None:
        raise ValueError("not an SVG document")
    head = re.sub(r'\s(width|height)="[^"]*"', "", root.group(0))
    head = head[:-1] + (
        f' width="100%" role="img" aria-label="{html.escape(label, quote=True)}" '
        'stroke-linejoin="round" stroke-linecap="butt">'
    )
    return Markup(head + text[root.end() :])  # noqa: S704 - matplotlib's SVG  # nosec B704


def _value(v: Any) -> Markup:
    """A number as the page shows it, with its full precision in ``<data value>``."""
    if v is None:
        return Markup("-")
    return Markup('<data value="{}">{}</data>').format(repr(float(v)), fmt(float(v)))


def _p_value(v: Any) -> Markup:
    if v is None:
        return Markup("-")
    return Markup('<data value="{}">{}</data>').format(repr(float(v)), fmt_p(float(v)))


def _count(v: Any) -> Markup:
    return Markup('<data value="{}">{}</data>').format(int(v), int(v))


# --- evaluations --------------------------------------------------------------------------


def _list_page(
    request: Request,
    ctx: Context,
    actor: Actor,
    *,
    status: int = 200,
    error: str | None = None,
    details: tuple[str, ...] = (),
) -> HTMLResponse:
    return render(
        request,
        "evaluation_list.html",
        actor,
        status,
        evaluations=list_evaluations(Library.from_context(ctx), actor),
        error=error,
        details=details,
        can_run=actor.can(Permission.EVALUATION_RUN),
    )


@router.get("/evaluation", response_class=HTMLResponse)
def evaluations_page(request: Request, ctx: CtxDep, actor: PageActor) -> HTMLResponse:
    """The stored evaluations with their state, and the form to upload a new one."""
    return _list_page(request, ctx, actor)


@router.post("/evaluation", response_model=None)
def evaluation_create(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    csrf: Annotated[str, Form()],
    config: Annotated[UploadFile | None, File()] = None,
    data: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Upload a configuration and the files it names: checked now, stored, then run as a
    job; a refusal shows the command's sentence and stores nothing."""
    if not _check_csrf(request, csrf):
        return _list_page(request, ctx, actor, status=422, error=FORM_EXPIRED)
    lib = Library.from_context(ctx)
    config_upload = Upload(config.filename or "", config.file) if config is not None else None
    uploads = [Upload(f.filename or "", f.file) for f in data or [] if f.filename]
    try:
        view = create_evaluation(lib, actor, config_upload, uploads)
    except EvaluationError as exc:
        return _list_page(request, ctx, actor, status=422, error=str(exc), details=exc.details)
    return RedirectResponse(f"/evaluation/{view.id}", status_code=303)


def _columns(results: list[dict[str, Any]]) -> dict[str, bool]:
    """Which optional columns the estimates table needs."""
    return {
        "fdr": any(r["p_value_fdr"] is not None for r in results),
        "clusters": any(r["n_clusters"] is not None for r in results),
        "pretrend": any(r["pretrend_p_value"] is not None for r in results),
    }


@router.get("/evaluation/{evaluation_id}", response_class=HTMLResponse)
def evaluation_page(
    request: Request, evaluation_id: str, ctx: CtxDep, actor: PageActor
) -> HTMLResponse:
    """One evaluation: its job's progress, or its results (estimates, readings, figures,
    the counts behind them) with the reports to download."""
    view = get_evaluation(Library.from_context(ctx), actor, evaluation_id)
    page = view.page
    figures = []
    if page is not None:
        figures = [
            f | {"svg": page_svg(f["svg"], f"fig{f['number']}-", f["title"])}
            for f in page["figures"]
        ]
    response = render(
        request,
        "evaluation.html",
        actor,
        e=view,
        page=page,
        figures=figures,
        columns=_columns(page["results"]) if page else {},
        unit=UNIT,
        value=_value,
        p_value=_p_value,
        count=_count,
        downloads=list(DOWNLOADS),
        refresh=REFRESH_S,
    )
    if not view.finished:
        response.headers["Refresh"] = str(REFRESH_S)
    return response


@router.get("/evaluation/{evaluation_id}/files/{name}", response_model=None)
def evaluation_file(
    request: Request, evaluation_id: str, name: str, ctx: CtxDep, actor: PageActor
) -> Response:
    """Download the evaluation's report (HTML or PDF) or its estimates at full precision."""
    path = report_file(Library.from_context(ctx), actor, evaluation_id, name)
    return FileResponse(
        path,
        media_type=DOWNLOADS[name],
        filename=f"evaluation-{evaluation_id}-{name}",
        content_disposition_type="attachment",
    )


# --- cost ---------------------------------------------------------------------------------


def _default_text(a: Assumption) -> str:
    if isinstance(a.default, bool):
        return "true" if a.default else "false"
    return f"{a.default:g}"


def _day(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CostError(
            f"The {what} date {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31."
        ) from None


def _differs(a: Assumption, text: str) -> bool:
    """Whether the form's text is other than the input's default (a bad number differs:
    `load_inputs` then says why it cannot be used)."""
    if isinstance(a.default, bool):
        return text.lower() != _default_text(a)
    try:
        return float(text) != float(a.default)
    except ValueError:
        return True


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _inputs_rows(p: Projection) -> list[dict[str, Any]]:
    inputs = p.inputs
    by_key = {a.key: a for a in ASSUMPTIONS}
    rows = []
    for key, value in inputs.values.items():
        a = by_key[key]
        shown = ("true" if value else "false") if isinstance(value, bool) else f"{value:g}"
        rows.append(
            {"key": key, "value": shown, "default": _default_text(a), "unit": a.unit,
             "source": inputs.sources.get(key, "default"), "meaning": a.meaning}
        )  # fmt: skip
    return rows


def _cost_actuals(ctx: Context, actor: Actor, start: str, end: str) -> Actuals:
    from bodycam.evaluation.cost_actuals import cost_actuals

    return cost_actuals(ctx.sessions, actor, _day(start, "from"), _day(end, "to"))


@router.get("/cost", response_class=HTMLResponse)
def cost_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    cameras: str | None = None,
    years: str | None = None,
    actuals: str = "",
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    """The projection form (every input with its default) and its result: the yearly
    table, the chart, the sensitivity range and tornado, the inputs used and their sources."""
    from bodycam.evaluation import charts
    from bodycam.evaluation.cost import DEFAULT_MIX, load_inputs, project

    require(ctx.sessions, actor, Permission.EVALUATION_COST_VIEW, "use the cost dashboard")
    params = request.query_params
    use_actuals = actuals in ("1", "on", "true")
    form: dict[str, str] = {
        "cameras": DEFAULT_CAMERAS if cameras is None else cameras.strip(),
        "years": DEFAULT_YEARS if years is None else years.strip(),
        "from": start,
        "to": end,
    }
    values = {a.key: params.get(a.key, _default_text(a)).strip() for a in ASSUMPTIONS}
    overrides = [
        f"{a.key}={values[a.key]}"
        for a in ASSUMPTIONS
        if values[a.key] and _differs(a, values[a.key])
    ]
    error = None
    result: dict[str, Any] | None = None
    notes: list[str] = []
    try:
        for what in ("cameras", "years"):
            if form[what]:
                overrides.append(f"program.{what}={form[what]}")
            elif not use_actuals or what == "years":
                raise CostError(f"Give the number of {what}.")
        measured: dict[str, Any] = {}
        if use_actuals:
            from bodycam.evaluation.cost_actuals import inputs_from_actuals

            found = _cost_actuals(ctx, actor, start, end)
            got, mix, notes = inputs_from_actuals(found)
            measured = {
                "actuals": got,
                "actual_mix": mix,
                "actual_cameras": found.cameras or found.officers,
            }
            notes = [f"actuals from {found.start} to {found.end}", *notes, *found.notes]
        inputs = load_inputs(overrides=overrides, origin=FORM_ORIGIN, **measured)
        projection = project(inputs)
        result = {
            "p": projection,
            "chart": page_svg(
                charts.svg(charts.cost_figure(projection)), "cost-",
                f"Cost per year of {inputs.cameras:,} cameras over {inputs.years} years",
            ),
            "inputs": _inputs_rows(projection),
            "given": sorted({s for s in inputs.sources.values() if s != "default"}),
        }  # fmt: skip
    except CostError as exc:
        error = str(exc)
    return render(
        request,
        "cost.html",
        actor,
        422 if error else 200,
        form=form,
        values=values,
        assumptions=ASSUMPTIONS,
        defaults={a.key: _default_text(a) for a in ASSUMPTIONS},
        use_actuals=use_actuals,
        mix=DEFAULT_MIX,
        r=result,
        notes=notes,
        components=COMPONENTS,
        money=_money,
        num=_num,
        error=error,
    )


@router.get("/cost/actuals", response_class=HTMLResponse)
def cost_actuals_page(
    request: Request,
    ctx: CtxDep,
    actor: PageActor,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    """This installation's real volumes (videos and hours per day, TB per tier, redaction
    time) and the model inputs they give."""
    from bodycam.evaluation.cost_actuals import inputs_from_actuals

    require(ctx.sessions, actor, Permission.EVALUATION_COST_VIEW, "read the program's actuals")
    error = None
    found = None
    measured: dict[str, float] = {}
    notes: list[str] = []
    try:
        found = _cost_actuals(ctx, actor, start, end)
        try:
            measured, _, notes = inputs_from_actuals(found)
        except CostError as exc:
            notes = [str(exc)]
    except CostError as exc:
        error = str(exc)
    by_key = {a.key: a for a in ASSUMPTIONS}
    return render(
        request,
        "cost_actuals.html",
        actor,
        422 if error else 200,
        form={"from": start, "to": end},
        a=found,
        measured=[
            {"key": k, "value": v, "unit": by_key[k].unit, "default": _default_text(by_key[k])}
            for k, v in measured.items()
        ],
        notes=notes,
        num=_num,
        finite=math.isfinite,
        error=error,
    )
