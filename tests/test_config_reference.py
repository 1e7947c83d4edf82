"""docs/configuration.md lists every ``duban.toml`` key the code reads, and nothing else.

Three checks, all against the code itself:

* every function that reads a section (``….section("name")``, found in the source) is one of
  ``READERS`` below, so a new reader cannot slip past this test;
* a ``duban.toml`` made of the page's example blocks passes every reader without an error (each
  documented key is accepted with its documented value), while a recording mapping notes each key
  the readers look up (``get``, ``[]``, ``in``);
* the keys looked up, plus the key lists the modules declare, equal the keys of the page's
  examples, and each of those keys is named in its section's table.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"
SOURCES = ("workflow", "cli", "notifiers", "calendars", "states")

# Tables whose keys are the office's own names (not settings): their keys are not checked.
FREE_FORM = {"scoring.indicators", "events"}
# Looked up by the code but not settings: refused on purpose (the page says so), or a lookup of
# a helper that takes either the whole file or one table.
NOT_SETTINGS = {
    "smtp.password": "refused: the password never goes in duban.toml",
    "robots.robots": "notifiers.robots.endpoints_from accepts the whole file or [robots]",
}


class Recording(dict):
    """A TOML table that notes every key looked up in it, as ``section.key``."""

    def __init__(self, data: dict, path: str, seen: set[str]):
        super().__init__(
            {
                k: Recording(v, f"{path}.{k}".strip("."), seen) if isinstance(v, dict) else v
                for k, v in data.items()
            }
        )
        self._path, self._seen = path, seen

    def _note(self, key: Any) -> None:
        if isinstance(key, str):
            self._seen.add(f"{self._path}.{key}".strip("."))

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def pop(self, key, *default):
        self._note(key)
        return super().pop(key, *default)


def _smtp(config):
    from workflow.outbox.settings import mail_sender, smtp_settings

    smtp_settings(config)
    mail_sender(config)


def _server_tables(config):
    from workflow.web.proxies import trusted_proxies
    from workflow.web.throttle import throttle_from

    throttle_from(config.section("server"), None)
    trusted_proxies(config.section("server"))


def _events(config):
    from workflow.tasks.events import event_kinds

    event_kinds(config.section("events"))


def _region(config):
    from workflow.dates.workdays import office_region

    office_region(config)


def _call(dotted: str, *args: Any) -> Callable[[Any], Any]:
    module, name = dotted.split(":")

    def run(config):
        import importlib

        return getattr(importlib.import_module(module), name)(config, *args)

    return run


# Each function that reads a section → how this test runs that read (the function itself, or,
# for one that needs a request or a database, the readers it hands the section to).
READERS: dict[str, Callable[[Any], Any]] = {
    "workflow.audit.reading:audit_settings": _call("workflow.audit.reading:audit_settings"),
    "workflow.chasing.policy:load_policy": _call("workflow.chasing.policy:load_policy"),
    "workflow.directory.web_sessions:idle_timeout": _call(
        "workflow.directory.web_sessions:idle_timeout"
    ),
    "workflow.directory.web_sessions:session_lifetime": _call(
        "workflow.directory.web_sessions:session_lifetime"
    ),
    "workflow.evaluation.rules:load_rules": _call("workflow.evaluation.rules:load_rules"),
    "workflow.evaluation.scores:kind_names": _call("workflow.evaluation.scores:kind_names"),
    "workflow.evaluation.workbook:office_name": _call("workflow.evaluation.workbook:office_name"),
    "workflow.ledger.periods:periods_from": _call("workflow.ledger.periods:periods_from"),
    "workflow.ledger.readers.limits:import_limits": _call(
        "workflow.ledger.readers.limits:import_limits"
    ),
    "workflow.operations.backup:pg_tool": _call("workflow.operations.backup:pg_tool", "pg_dump"),
    "workflow.operations.health:heartbeat_minutes": _call(
        "workflow.operations.health:heartbeat_minutes"
    ),
    "workflow.operations.upkeep:backup_settings": _call(
        "workflow.operations.upkeep:backup_settings"
    ),
    "workflow.outbox.contact:server_url": _call("workflow.outbox.contact:server_url"),
    "workflow.outbox.contact:mail_contact": _call("workflow.outbox.contact:mail_contact"),
    "workflow.outbox.robots:robot_settings": _call("workflow.outbox.robots:robot_settings"),
    "workflow.outbox.robots:mail_sink": _smtp,  # falls back on [smtp] being set at all
    "workflow.outbox.settings:_merged_smtp": _smtp,
    "workflow.outbox.settings:notify_settings": _call("workflow.outbox.settings:notify_settings"),
    "workflow.tasks.calls:_kinds": _events,
    "workflow.tasks.evidence_fetch:evidence_settings": _call(
        "workflow.tasks.evidence_fetch:evidence_settings"
    ),
    "workflow.web.app:create_app": _server_tables,
    "workflow.web.limits:upload_limit": _call("workflow.web.limits:upload_limit"),
    "workflow.web.pages.frame:calendar": _region,
    "workflow.dates.workdays:office_region": _region,
    "workflow.dates.workdays:due_on_rest_day": _call("workflow.dates.workdays:due_on_rest_day"),
}


def _declared_keys() -> set[str]:
    """The key lists the modules declare (read from a table they copy, or checked as a set)."""
    from workflow.chasing import policy
    from workflow.ledger.readers.limits import ImportLimits
    from workflow.outbox.robots import ROBOTS_KEYS
    from workflow.outbox.settings import NOTIFY_KEYS, SMTP_KEYS

    keys = {f"smtp.{k}" for k in SMTP_KEYS} | {f"notify.{k}" for k in NOTIFY_KEYS}
    keys |= {f"robots.{k}" for k in ROBOTS_KEYS} | {f"check.{k}" for k in policy._KEYS}
    keys |= {f"check.escalation.{k}" for k in policy.LEVELS}
    keys |= {f"import.{f.name}" for f in fields(ImportLimits)}
    return keys


def _section_readers() -> dict[str, set[str]]:
    """``module:function`` → the sections it reads, for every function in the source."""
    found: dict[str, set[str]] = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                names = {
                    sub.args[0].value
                    for sub in ast.walk(node)
                    if isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "section"
                    and sub.args
                    and isinstance(sub.args[0], ast.Constant)
                    and isinstance(sub.args[0].value, str)
                    and sub.args[0].value.isascii()  # click's formatter.section("命令")
                }
                if names:
                    found[f"{module}:{node.name}"] = names
    return found


def _page() -> tuple[dict[str, Any], dict[str, str]]:
    """The page's merged example blocks and, per section, the text of its part of the page."""
    text = PAGE.read_text(encoding="utf-8")
    parts = dict(re.findall(r"^## `\[([\w.]+)\]`\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M))
    merged: dict[str, Any] = {}
    for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S):
        for key, value in tomllib.loads(block).items():
            assert key not in merged, f"[{key}] has two example blocks"
            merged[key] = value
    return merged, parts


def _documented(table: dict[str, Any], path: str = "") -> set[str]:
    out = set()
    for key, value in table.items():
        dotted = f"{path}.{key}".strip(".")
        out.add(dotted)
        if isinstance(value, dict) and dotted not in FREE_FORM:
            out |= _documented(value, dotted)
        elif isinstance(value, dict) and dotted == "events":  # each kind's own keys
            for kind in value.values():
                if isinstance(kind, dict):
                    out |= {f"events.*.{k}" for k in kind}
    return out


def test_every_function_reading_a_section_is_checked_here():
    found = _section_readers()
    missing = sorted(set(found) - set(READERS))
    assert not missing, (
        f"add these readers of duban.toml to READERS (and their keys to the page): {missing}"
    )
    gone = sorted(set(READERS) - set(found))
    assert not gone, f"these no longer read a section; drop them from READERS: {gone}"
    merged, _ = _page()
    unknown = sorted({s for names in found.values() for s in names} - set(merged))
    assert not unknown, (
        f"sections read by the code but missing from docs/configuration.md: {unknown}"
    )


def test_the_page_lists_exactly_the_keys_the_code_reads(tmp_path, monkeypatch):
    import workflow.config as config_module
    from workflow.config import Config, load_config

    merged, parts = _page()
    config_dir, data_dir = tmp_path / "config", tmp_path / "data"
    config_dir.mkdir()
    (config_dir / merged["smtp"]["password_file"]).write_text("secret\n", encoding="utf-8")
    (config_dir / merged["smtp"]["ca_file"]).write_text("", encoding="utf-8")
    pg_dump = tmp_path / "pg_dump"  # the example's path need not exist on this machine
    pg_dump.write_text("", encoding="utf-8")
    page = PAGE.read_text(encoding="utf-8").replace(merged["backup"]["pg_dump"], str(pg_dump))
    blocks = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    (config_dir / "duban.toml").write_text("\n".join(blocks), encoding="utf-8")

    seen: set[str] = set()
    reading = config_module.read_toml
    monkeypatch.setattr(config_module, "read_toml", lambda p: Recording(reading(p), "", seen))
    monkeypatch.setattr(
        Config, "section", lambda self, name: Recording(dict(self.raw.get(name, {})), name, seen)
    )
    env = {"DUBAN_CONFIG_DIR": str(config_dir), "DUBAN_DATA_DIR": str(data_dir)}
    config = load_config(env)
    assert config.database_url == merged["database"]["url"]
    for name, read in READERS.items():
        try:
            read(config)
        except Exception as exc:  # noqa: BLE001 - named in the failure
            pytest.fail(f"{name} refuses the documented example: {exc}")

    read_keys = {k for k in seen if k.count(".") >= 1 or k == "database"}
    read_keys = {k for k in read_keys if not any(k.startswith(f + ".") for f in FREE_FORM)}
    read_keys |= _declared_keys()
    read_keys -= {"database"}  # the section itself, looked up by load_config
    read_keys -= set(NOT_SETTINGS)
    text = PAGE.read_text(encoding="utf-8")
    assert "a `password` key is refused" in text  # NOT_SETTINGS["smtp.password"] is said there
    documented = {
        k
        for k in _documented(merged)
        if "." in k and not any(k.startswith(f + ".") for f in FREE_FORM)
    }
    undocumented = sorted(read_keys - documented)
    assert not undocumented, f"keys the code reads that docs/configuration.md lacks: {undocumented}"
    unread = sorted(documented - read_keys)
    assert not unread, f"keys docs/configuration.md lists that no code reads: {unread}"

    from workflow.tasks.events import BUILTIN_KINDS

    assert {k.key for k in BUILTIN_KINDS} == set(merged["events"]), "[events]: the built-in kinds"
    for key in sorted(_documented(merged)):
        if "." not in key:
            continue
        section, name = key.split(".", 1)
        if section == "events" and name.startswith("*."):
            name = name[2:]
        name = name.split(".")[0]
        assert f"`{name}`" in parts[section], f"[{section}] {name} is in the example, not the table"
