"""Writing the files people open (exported workbooks, reports): atomically, with normal permissions."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

from workflow.errors import InvalidInput


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it into place.

    A failure leaves no half-written file; the result gets the permissions any new file of the
    user would get (``mkstemp`` alone would make it readable by its owner only).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(f"无法写入“{path}”：目录 {folder} 不存在")
    fd, tmp = tempfile.mkstemp(prefix=".duban-", suffix=path.suffix, dir=folder)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        from workflow.config import os_error_text

        raise InvalidInput(f"无法写入“{path}”：{os_error_text(exc)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once ``..`` and symbolic links are
    resolved, or (both existing) one file under two names (a hard link, another letter case)."""
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def refuse_same_file(source: str | Path, target: str | Path, option: str) -> None:
    """Refuse to write ``target`` (given with ``option``) over the file being imported."""
    if same_file(source, target):
        raise InvalidInput(f"{option} 不能与导入的文件相同：{target}")


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def lines_needed(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` wide (openpyxl does not grow rows)."""
    usable = max(1, int(width) - 1)
    return sum(max(1, -(-display_width(line) // usable)) for line in text.split("\n"))
