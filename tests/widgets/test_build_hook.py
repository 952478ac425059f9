"""hatch_build.py: when it builds the front end, when it skips, and what it says when it
cannot."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import hatch_build
from hatch_build import WidgetBuildHook


def make_hook(root: Path) -> WidgetBuildHook:
    return WidgetBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel")  # type: ignore[arg-type]


def project(tmp_path: Path, built: bool) -> Path:
    widgets = tmp_path / "widgets"
    (widgets / "static").mkdir(parents=True)
    (widgets / "package-lock.json").write_text("{}")
    if built:
        for name in hatch_build.OUTPUTS:
            (widgets / name).write_text("/* built */")
    return tmp_path


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    ran: list[list[str]] = []

    def run(command: list[str], cwd: Path, check: bool) -> Any:
        ran.append([Path(command[0]).name, *command[1:]])
        if command[1:] == ["build.mjs"]:
            for name in hatch_build.OUTPUTS:
                (Path(cwd) / name).write_text("/* built */")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(hatch_build.subprocess, "run", run)
    monkeypatch.setattr(hatch_build.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("CHATMORE_SKIP_JS_BUILD", raising=False)
    return ran


def test_a_clean_checkout_installs_then_builds(tmp_path: Path, commands: list[list[str]]) -> None:
    make_hook(project(tmp_path, built=False)).initialize("standard", {})
    assert commands == [["npm", "ci", "--no-audit", "--no-fund"], ["node", "build.mjs"]]


def test_fresh_node_modules_are_not_reinstalled(tmp_path: Path, commands: list[list[str]]) -> None:
    root = project(tmp_path, built=False)
    installed = root / "widgets" / "node_modules" / ".package-lock.json"
    installed.parent.mkdir()
    installed.write_text("{}")
    os.utime(root / "widgets" / "package-lock.json", (1, 1))  # older than the install
    make_hook(root).initialize("editable", {})
    assert commands == [["node", "build.mjs"]]


def test_a_changed_lockfile_reinstalls(tmp_path: Path, commands: list[list[str]]) -> None:
    root = project(tmp_path, built=True)
    installed = root / "widgets" / "node_modules" / ".package-lock.json"
    installed.parent.mkdir()
    installed.write_text("{}")
    os.utime(installed, (1, 1))  # installed before the lockfile changed
    make_hook(root).initialize("standard", {})
    assert commands[0][:2] == ["npm", "ci"]


def test_skip_uses_the_built_files(
    tmp_path: Path, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATMORE_SKIP_JS_BUILD", "1")
    make_hook(project(tmp_path, built=True)).initialize("standard", {})
    assert commands == []


def test_skip_without_built_files_still_builds(
    tmp_path: Path, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATMORE_SKIP_JS_BUILD", "1")
    make_hook(project(tmp_path, built=False)).initialize("standard", {})
    assert ["node", "build.mjs"] in commands


def test_without_npm_the_build_says_what_is_missing(
    tmp_path: Path, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hatch_build.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"needs Node\.js and npm"):
        make_hook(project(tmp_path, built=False)).initialize("standard", {})
    assert commands == []


def test_a_failing_build_names_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(command: list[str], cwd: Path, check: bool) -> Any:
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(hatch_build.subprocess, "run", fail)
    monkeypatch.setattr(hatch_build.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("CHATMORE_SKIP_JS_BUILD", raising=False)
    with pytest.raises(RuntimeError, match=r"npm ci .*exit status 1"):
        make_hook(project(tmp_path, built=False)).initialize("standard", {})
