"""督办看板 (/board): read only, for leaders and the office; numbers from one workflow function."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from workflow.evaluation.board import board as board_numbers
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    calendar,
    config,
    render,
    today,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

BAR_COLOURS = {"red": "#c53030", "yellow": "#b7791f", "blue": "#2b6cb0"}


def forecast_chart(numbers: dict[str, Any]) -> dict[str, Any]:
    """Geometry of the server-rendered SVG: one bar per unit, the forecast score out of base.

    Drawn in a fixed 460-wide viewBox that the page scales to the screen (no script, no style
    attribute: the Content-Security-Policy allows neither).
    """
    label_w, bar_w, row_h, top = 120, 230, 26, 24
    base = numbers["base"] or 1.0
    bars = []
    for i, u in enumerate(sorted(numbers["units"], key=lambda u: (u["score"], u["unit"]))):
        width = max(0.0, min(1.0, u["score"] / base)) * bar_w
        lost = u["deducted"]
        colour = "red" if lost >= base * 0.05 else "yellow" if lost > 0 else "blue"
        bars.append(
            {
                "unit": u["unit"] if len(u["unit"]) <= 8 else u["unit"][:7] + "…",
                "y": top + i * row_h,
                "width": round(width, 1),
                "fill": BAR_COLOURS[colour],
                "value_x": round(label_w + width + 6, 1),
                "value": f"{u['score']:g}（扣 {lost:g}）" if lost else f"{u['score']:g}",
            }
        )
    return {
        "width": label_w + bar_w + 110,
        "height": top + row_h * len(bars) + 8,
        "label_x": label_w - 8,
        "bar_x": label_w,
        "bar_w": bar_w,
        "bar_h": row_h - 8,
        "base": f"{base:g}",
        "bars": bars,
    }


@router.get("/board")
def board(request: Request, plan: str = "", who: Visitor = Depends(visitor)) -> Response:
    with unit_of_work(request) as session:
        numbers = board_numbers(
            session,
            who.caller,
            plan or None,
            today(),
            config=config(request),
            calendar=calendar(request),
        )
    for u in numbers["units"]:
        u["link"] = "/tasks?" + urlencode({"unit": u["unit"]})
    return render(
        request, "board.html", who, b=numbers, chart=forecast_chart(numbers), as_of=today()
    )
