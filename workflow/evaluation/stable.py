"""A workbook that depends on its content only: the same sheet gives the same bytes, any day.

openpyxl stamps ``docProps/core.xml`` with the time of saving (created / modified) and
``zipfile`` stamps each member with the local time it was written. A signed "as of D" record
must not change when it is exported again a year later, so :func:`save_stable` saves, then
rewrites the archive with every timestamp set to the as-of date (00:00, Asia/Shanghai's date,
written as UTC midnight of that date in the properties).
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def save_stable(wb: Any, path: Path, day: date) -> None:
    """Save ``wb`` to ``path`` with every timestamp inside the file set to ``day``."""
    raw = path.with_name(path.name + ".raw")
    try:
        wb.save(raw)
        stamp = f"{day.isoformat()}T00:00:00Z".encode()
        when = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
        with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w") as out:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "docProps/core.xml":
                    data = _STAMP.sub(lambda m: m.group(1) + stamp + m.group(3), data)
                info = zipfile.ZipInfo(item.filename, date_time=when)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                out.writestr(info, data)
    finally:
        raw.unlink(missing_ok=True)
