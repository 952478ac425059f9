"""The message catalogs (widgets/locales/*.json): one per language, shared by the board's
front end and the kernel; the same keys and placeholders in each, none unused or missing;
and the kernel's messages in English and Chinese."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from chatmore_kernel.errors import ChatMoreError
from chatmore_kernel.progress import ProgressBar
from widgets import i18n
from widgets.board import Board
from widgets.matrix import MatrixWidget

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "widgets" / "locales"
# Where strings are looked up: t("key") in JS and Python, i18n.t("key") in the board.
SOURCES = [
    *(ROOT / "widgets" / "src").rglob("*.js"),
    *(ROOT / "widgets").glob("*.py"),
    *(ROOT / "chatmore_kernel").glob("*.py"),
    *(ROOT / "server_ext" / "dashboard").rglob("*.py"),
    *(ROOT / "notebooks").glob("dashboard.ipynb"),
]
# A call's first argument, up to its first comma or parenthesis: t("a"), t(x ? "a" : "b").
CALL = re.compile(r"""\bt(?:_in\(\s*[\w.]+\s*,|\()([^,()]*)""")
QUOTED = re.compile(r"""["']([\w.]+)["']""")
# Keys made from a family and a value: label("status", …), t(f"status.{…}").
FAMILY = re.compile(
    r"""(?:\blabel\(\s*["']([\w.]+)["']|\bt(?:_in\(\s*[\w.]+\s*,|\()\s*f?["`]([\w.]+)\.\{)"""
)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_of(path: Path) -> str:
    """A file's code; a notebook's cells joined (its JSON would escape the quotes)."""
    text = path.read_text("utf-8")
    if path.suffix != ".ipynb":
        return text
    return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])


def catalogs() -> dict[str, dict[str, str]]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(LOCALES.glob("*.json"))}


@pytest.fixture
def zh():
    before = i18n.locale()
    i18n.set_locale("zh-CN")
    yield
    i18n.set_locale(before)


@pytest.fixture
def en():
    before = i18n.locale()
    i18n.set_locale("en")
    yield
    i18n.set_locale(before)


def test_english_and_chinese_ship_with_the_same_keys_and_placeholders() -> None:
    found = catalogs()
    assert set(found) == {"en", "zh"}
    assert found["en"].keys() == found["zh"].keys()
    for key, text in found["en"].items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(found["zh"][key])), key
        assert found["zh"][key].strip(), key


def test_every_key_is_used_and_every_used_key_exists() -> None:
    keys = set(catalogs()["en"])
    used: set[str] = set()
    families: set[str] = set()
    for path in SOURCES:
        text = source_of(path)
        for argument in CALL.findall(text):
            used.update(QUOTED.findall(argument))
        for a, b in FAMILY.findall(text):
            families.add(a or b)
    missing = used - keys
    assert not missing, f"looked up but not in the catalog: {sorted(missing)}"
    unused = {k for k in keys - used if not any(k.startswith(f + ".") for f in families)}
    assert not unused, f"in the catalog but never looked up: {sorted(unused)}"


def test_the_catalogs_ship_in_the_package() -> None:
    assert i18n.catalog("zh")["composer.send"] == "发送"
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '"widgets/locales' not in pyproject.split("exclude = [", 1)[1].split("]")[0]


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh-CN", "zh"),
        ("zh_CN.UTF-8", "zh"),
        ("zh", "zh"),
        ("en-US", "en"),
        ("", "en"),
        ("fr", "en"),
    ],
)
def test_language_of(tag: str, language: str) -> None:
    assert i18n.language_of(tag) == language


def test_without_a_front_end_the_kernel_reads_jupyterlab_then_lang(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp_path))
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    assert i18n.detect_locale() == "zh"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.detect_locale() == "en"
    setting = tmp_path / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    setting.parent.mkdir(parents=True)
    setting.write_text('{\n  // the language\n  "locale": "zh_CN"\n}\n', "utf-8")
    assert i18n.detect_locale() == "zh"


def test_the_boards_front_end_sets_the_kernels_language(en) -> None:
    board = Board()
    board.locale = "zh-CN"
    assert i18n.locale() == "zh"
    assert MatrixWidget.class_traits()["locale"].metadata.get("sync")
    board.locale = "en"
    assert i18n.locale() == "en"
    board.close()


def test_board_errors_in_both_languages(en) -> None:
    board = Board()
    with pytest.raises(Exception, match="this board has no backend"):
        board.send("Hi")
    i18n.set_locale("zh")
    with pytest.raises(Exception, match="这个面板没有后端"):
        board.send("Hi")
    board.close()


def test_client_errors_in_both_languages(en, monkeypatch) -> None:
    from chatmore_kernel.config import server_url

    monkeypatch.delenv("CHATMORE_URL", raising=False)
    with pytest.raises(ChatMoreError, match="the server URL must be http"):
        server_url("ftp://x")
    i18n.set_locale("zh-CN")
    with pytest.raises(ChatMoreError, match="服务器地址必须以 http") as caught:
        server_url("ftp://x")
    assert caught.value.code == "NOT_CONFIGURED"  # codes stay as they are


def progress_info(status: str) -> dict:
    counts = {"succeeded": 1200, "failed": 3, "cancelled": 0, "running": 2, "pending": 5}
    return {
        "status": status,
        "progress": {
            **counts,
            "total": 1210,
            "prompt_tokens": 10000,
            "completion_tokens": 2345,
            "cost": 1.5,
            "currency": "USD",
        },
    }


def test_the_progress_line_in_english(en) -> None:
    bar = ProgressBar("grid")
    bar._show = lambda: None  # type: ignore[method-assign]
    bar.update(progress_info("finished"))
    assert repr(bar) == (
        "grid: 1,203/1,210 · ✓ 1,200 · ✗ 3 · running 2 · tokens 12,345 · cost 1.5000 USD"
        " · finished"
    )


def test_the_progress_line_in_chinese(zh) -> None:
    bar = ProgressBar("网格")
    bar._show = lambda: None  # type: ignore[method-assign]
    bar.update(progress_info("finished"))
    assert repr(bar) == (
        "网格：1,203/1,210 · ✓ 1,200 · ✗ 3 · 运行中 2 · token 12,345 · 费用 1.5000 USD · 已完成"
    )
    assert "已完成" in bar._repr_html_()


def test_dates_and_numbers_for_the_locale(en) -> None:
    moment = datetime(2025, 1, 5, 15, 4)
    assert i18n.format_date(moment) == "Jan 5, 2025, 15:04"
    assert i18n.format_number(1234567) == "1,234,567"
    i18n.set_locale("zh")
    assert i18n.format_date(moment) == "2025年1月5日 15:04"
    assert i18n.format_date(moment.date()) == "2025年1月5日"


def test_every_error_code_has_a_sentence_in_each_language() -> None:
    from chatmore_kernel.errors import CLIENT_ERROR_CODES
    from server_ext.errors import ERROR_CODES

    codes = {*ERROR_CODES, *CLIENT_ERROR_CODES}
    for language, found in catalogs().items():
        named = {k.removeprefix("errorcode.") for k in found if k.startswith("errorcode.")}
        assert named - {"with_detail"} == codes, language


def test_an_error_reads_in_the_visitors_language() -> None:
    locked = ("AUTH_ACCOUNT_LOCKED", "too many failed sign-ins; try again in 4 minutes")
    details = {"retry_after": 221}
    assert i18n.describe_error(*locked, details, language="en") == (
        "Too many failed sign-ins; try again in 4 minutes."
    )
    in_chinese = i18n.describe_error(*locked, details, language="zh")
    assert in_chinese == "登录失败次数过多，请过4分钟再试。"
    # No wait given: the sentence still reads.
    assert i18n.describe_error("RATE_LIMITED", "slow down", language="zh") == (
        "请求过于频繁，请过一会儿再试。"
    )
    # The server's specifics stay (a field name); an unknown code keeps the server's words.
    field = i18n.describe_error("VALIDATION_FAILED", "temperature must be ≤ 2", language="zh")
    assert field == "输入无效。（temperature must be ≤ 2）"
    unknown = i18n.describe_error("NEW_CODE", "a newer server's", language="zh")
    assert unknown == "A newer server's."
    assert i18n.wait_in_words(1, "en") == "1 second"
    assert i18n.wait_in_words(7200, "en") == "2 hours"
    assert i18n.wait_in_words(90, "zh") == "2分钟"


def test_a_new_boards_default_title_in_the_kernels_language(zh) -> None:
    from chatmore_kernel.boards import default_title

    windows = [{"model_id": 1}, {"model_id": 2, "name": "冷"}]
    assert default_title(windows, {1: "Demo Swift"}) == "Demo Swift 对比 冷"
    assert i18n.t("board.title_blind") == "盲测比较"


def test_the_notebook_apis_own_errors_in_chinese(zh) -> None:
    from chatmore_kernel.catalog import window_specs

    with pytest.raises(ChatMoreError) as raised:
        window_specs(None, windows=[])  # type: ignore[arg-type]
    assert raised.value.code == "VALIDATION_FAILED"
    assert raised.value.message == "请至少指定一个模型（models=[...] 或 windows=[...]）"
