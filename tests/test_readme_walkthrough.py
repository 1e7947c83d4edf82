"""The README's walk-through runs as written, top to bottom, in a fresh sandbox (issue 17).

Its ``bash`` blocks are extracted and run by a real ``bash`` in an empty directory with a fresh
HOME, config and data directory, ``duban`` on the PATH and no token or database in the
environment: the sample it imports must be made by a command it shows, the IDs it uses must be
the ones that appear, tokens must come from commands, and dates from the ``DUBAN_NOW`` it sets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def walkthrough_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Walk-through\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def test_the_walkthrough_shows_no_token_on_a_command_line():
    script = "\n".join(walkthrough_blocks())
    assert "dbn_" not in script and "<令牌>" not in script and "DUBAN_TOKEN=" not in script
    assert "duban init | duban login" in script


@pytest.mark.skipif(
    bool(os.environ.get("DUBAN_TEST_DATABASE_URL")), reason="the walk-through uses its own SQLite"
)
def test_the_walkthrough_runs_top_to_bottom(tmp_path):
    blocks = walkthrough_blocks()
    assert len(blocks) == 3
    sandbox = tmp_path / "office"
    sandbox.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DUBAN_") and key not in {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"}
    }
    env.update(
        HOME=str(tmp_path / "home"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        COLUMNS="100",
    )
    script = "set -euo pipefail\n" + "\n".join(
        f"echo '### block {i}'\n{block}" for i, block in enumerate(blocks, 1)
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=sandbox,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    assert "已登录：办公室（office）" in out and "已登录：财务审计科（unit）" in out
    assert "新增任务 14" in out and "新增分派 103" in out  # the units the sample needs
    assert "排队通知 10 封" in out  # reminders three working days before 31 March
    unit_list = out.split("### block 2", 1)[1]
    assert re.search(
        r"^\s+42\s+财务审计科\s+抓好自身建设信息公开\s+已分派\s+2023-04-28", unit_list, re.M
    )
    assert "任务 #42 现为“已核验”" in out
    overdue = out.split("--overdue", 1)[-1] if "--overdue" in out else out
    assert re.search(r"^\s+10\s+财务审计科.*已逾期\s+2023-03-31", overdue, re.M), out
    assert "共 1 条（已逾期 1）" in out
    for made in ("2023年任务落实台账.xlsx", "台账-填报.xlsx", "考核.xlsx", "考核.html"):
        assert (sandbox / made).stat().st_size > 0, made
    # the sheet says the as-of date the office gave (the end of 31 December), like the score
    assert "考核截至：2023-12-31" in (sandbox / "考核.html").read_text(encoding="utf-8")
    database = tmp_path / "home" / ".local" / "share" / "duban" / "duban.db"
    assert database.exists() and database.stat().st_mode & 0o077 == 0
