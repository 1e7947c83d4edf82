"""The ledger room's operations as the doors call them (see ``workflow/calls/table.py``):
import a ledger file (or preview it), export the filled-in ledger, the working-day calendar.
Plain values in, plain data out; the import's result carries both its documented JSON and what
the preview table shows, so every door renders the same thing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Config
from workflow.dates.clock import local_date, parse_date
from workflow.dates.workdays import (
    add_view,
    between_view,
    due_on_rest_day,
    load_calendar,
    month_view,
    parse_month,
    provisional_message,
    status_view,
)
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput
from workflow.ledger.choice import parse_columns
from workflow.ledger.export import export_ledger
from workflow.ledger.importing import import_ledger
from workflow.ledger.periods import periods_from
from workflow.ledger.readers.limits import import_limits
from workflow.ledger.recompute import import_calendar, recompute_calendar
from workflow.ledger.result import ImportResult, TaskView
from workflow.ledger.review import export_review
from workflow.tasks.assignments import ROLE_LABELS


def parse_report_dates(value: str | None):
    if not value:
        return None
    parts = [p.strip() for p in value.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    return [parse_date(p, "--report-dates 报送日期") for p in parts]


def parse_plan_year(value: str | None) -> int | None:
    if value is None:
        return None
    text = str(value).strip().removesuffix("年")
    if not text.isdigit() or not 1950 <= int(text) <= 2100:
        raise InvalidInput(f"--plan-year 无效：“{value}”（应为年份，如 2023）")
    return int(text)


def import_file(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    file: str,
    plan_year: str | None = None,
    report_dates: str | None = None,
    sheet: str | None = None,
    create_units: bool = False,
    dry_run: bool = False,
    to_ledger: str | None = None,
    progress: Any = None,
    columns: str | None = None,
    issued: str | None = None,
) -> dict[str, Any]:
    """``{"result": the documented JSON, "display": what the preview / summary shows}``.

    ``columns`` ("细化分工=content,责任处室=lead") sets what a column holds; the result's
    ``columns`` is the mapping used, ``unused`` the cells no task field took (also warnings)."""
    choice = parse_columns(columns)
    year = parse_plan_year(plan_year)
    dates = parse_report_dates(report_dates)
    calendar = load_calendar(config)
    rest_day = due_on_rest_day(config)
    mode = periods_from(config)
    issued_on = parse_date(issued, "--issued 印发日期") if issued else None
    review = None
    if to_ledger:  # written first: a refused import still leaves the workbook to fix
        review = export_review(
            session, caller, file, to_ledger, calendar=calendar, now=now,
            plan_year=year, report_dates=dates, sheet=sheet, columns=choice,
            rest_day=rest_day,
        )  # fmt: skip
    result = import_ledger(
        session,
        caller,
        file,
        calendar=calendar,
        now=now,
        plan_year=year,
        report_dates=dates,
        sheet=sheet,
        create_units=create_units,
        dry_run=dry_run,
        progress=progress,
        limits=import_limits(config),
        columns=choice,
        rest_day=rest_day,
        periods_from=mode,
        issued=issued_on,
    )
    return {
        "result": {
            **result.as_json(),
            "columns": result.columns,
            "unused": result.unused,
            **({"review_ledger": review.to_dict()} if review else {}),
        },
        "display": _display(result),
        "review": review.to_dict() if review else None,
    }


def _display(result: ImportResult) -> dict[str, Any]:
    return {
        "plan": result.plan,
        "counts": result.counts,
        "changes": result.changes,
        "created_units": result.created_units,
        "changed": result.changed,
        "dry_run": result.dry_run,
        "warnings": result.warnings,
        "columns": result.columns,
        "tasks": [
            {
                "number": view.number or "",
                "section": " / ".join(view.section_path),
                "title": view.title,
                "content": _clipped(view.content),
                "units": _units_text(view.units),
                "dues": _dues_text(view),
                "status": view.status,
            }
            for view in result.tasks
        ],
    }


def _clipped(text: str | None, limit: int = 120) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _units_text(units: list[dict]) -> str:
    buckets: dict[tuple[str, str], list[str]] = {}
    for u in units:
        buckets.setdefault((u["role"], u["how"]), []).append(u["name"])
    lines = []
    for (role, how), names in buckets.items():
        note = "" if how == "名称一致" else f"（{how}）"
        lines.append(f"{ROLE_LABELS.get(role, role)}：{'、'.join(names)}{note}")
    return "\n".join(lines)


def _dues_text(view: TaskView) -> str:
    dates = sorted({d for d, _, _ in view.dues})
    if len(dates) <= 3:
        shown = "\n".join(d.isoformat() for d in dates)
    else:
        shown = f"{len(dates)} 期：{dates[0].isoformat()} … {dates[-1].isoformat()}"
    phrase = view.dues[0][2] if view.dues else ""
    source = {"deadline_cell": "完成时限", "text": "正文", "plan_default": ""}.get(
        view.deadline_source, ""
    )
    origin = f"{source}“{phrase}”" if source else phrase
    shown = f"{shown}\n← {origin}" if origin else shown
    notes = view.notes[:3] + ([f"……另 {len(view.notes) - 3} 条"] if len(view.notes) > 3 else [])
    return "\n".join([shown, *notes])


def export_file(
    session: Session, caller: Caller, now: datetime, plan: str, path: str, as_of: str | None = None
) -> dict[str, Any]:
    day = parse_date(as_of, "--as-of 日期") if as_of else local_date(now)
    summary = export_ledger(session, caller, plan, path, as_of=day)
    return {**summary.to_dict(), "as_of": day.isoformat()}


# ------------------------------------------------------------------ the calendar


def calendar_month(config: Config, month: str) -> dict[str, Any]:
    """``{"month": the month view, "warning": the provisional-year line or None}``."""
    year, mon = parse_month(month)
    view = month_view(load_calendar(config), year, mon)
    return {"month": view, "warning": provisional_message([year]) if view["provisional"] else None}


def calendar_add(config: Config, start: str, n: int) -> dict[str, Any]:
    view = add_view(load_calendar(config), parse_date(start, "日期"), n)
    return {"result": view, "warning": provisional_message(view["provisional_years"])}


def calendar_between(config: Config, a: str, b: str) -> dict[str, Any]:
    cal = load_calendar(config)
    view = between_view(cal, parse_date(a, "起始日期"), parse_date(b, "结束日期"))
    return {"result": view, "warning": provisional_message(view["provisional_years"])}


def calendar_status(config: Config) -> list[dict[str, Any]]:
    return status_view(load_calendar(config))


def calendar_import(session: Session, caller: Caller, config: Config, path: str) -> dict[str, Any]:
    result, changes = import_calendar(session, caller, config, path)
    return {**result.to_dict(), "recomputed": [c.to_dict() for c in changes]}


def calendar_recompute(session: Session, caller: Caller, config: Config) -> dict[str, Any]:
    """``{"region": the office's region or None, "recomputed": [changes]}``."""
    from workflow.dates.workdays import office_region

    changes = recompute_calendar(session, caller, config)
    return {"region": office_region(config), "recomputed": [c.to_dict() for c in changes]}
