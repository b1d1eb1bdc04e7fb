"""Colour and -q/-v the same way in every command (issue 14): colour only where wanted (FORCE_COLOR on, NO_COLOR
off and winning, https://no-color.org), -q = only failures and the final line, -v = one line per item."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import jsonify

from examples.contact_center import create_app
from harness.cli import main
from harness.engines.twilio.server import LocalServer
from tests.conftest import EXAMPLES
from tests.unit.contracts.handoffs import PACTS, ROOT
from tests.unit.insight._results import write_results

BOT = EXAMPLES / "hospitality" / "assistant.json"
FLOWS = EXAMPLES / "hospitality" / "flows"
REPLAY = ROOT / "tests" / "fixtures" / "replay"
FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"
HTTP_PACT = PACTS / "hospitality-http-contact-center.json"
SCENARIOS = ROOT / "scenarios" / "hospitality"
ESC = "\x1b["


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- colour: one row per command that prints human text ---------------------------------------------------

def _chat(tmp: Path) -> list[str]:
    return ["chat", "--bot", str(BOT), "--say", "I need towels"]


def _verify_flow(tmp: Path) -> list[str]:
    return ["contracts", "verify-flow", "--pact", str(FLEX_PACT), "--scenarios", str(SCENARIOS)]


def _replay(tmp: Path) -> list[str]:
    return ["replay", "execution", str(REPLAY / "flex_handoff_divergent.json"), "--flow",
            str(FLOWS / "flex_messaging.json")]


def _coverage(tmp: Path) -> list[str]:
    return ["coverage", str(write_results(tmp)), "--fail-under-tasks", "100"]


def _report(tmp: Path) -> list[str]:
    return ["report", str(write_results(tmp)), "-o", str(tmp / "r.html"), "-v"]


def _nlu_eval(tmp: Path) -> list[str]:
    return ["nlu-eval", str(BOT), "--folds", "2", "-q"]


@pytest.mark.parametrize("argv", [_chat, _verify_flow, _replay, _coverage, _report, _nlu_eval],
                         ids=lambda f: f.__name__.strip("_"))
def test_colour_when_forced_and_none_under_no_color(argv: Callable[[Path], list[str]], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # captured output is no terminal: force it to see the colour
    code, out, err = _run(argv(tmp_path), capsys)
    assert ESC in out + err, (code, out, err)
    monkeypatch.setenv("NO_COLOR", "1")  # wins over FORCE_COLOR
    again, out, err = _run(argv(tmp_path), capsys)
    assert again == code and ESC not in out + err and out.strip()


def test_plain_output_has_no_colour_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    _, out, err = _run(_replay(tmp_path), capsys)  # a pipe, not a terminal
    assert ESC not in out + err and "FAIL" in out


# --- -q and -v ---------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def test_verify_flow_quiet_prints_the_verdict_only_when_all_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*_verify_flow(Path()), "-q"], capsys)
    assert code == 0 and _lines(out) == ["contract verified: 3/3 interactions passed for provider "
                                         "'hospitality-flex'"]
    code, out, _ = _run([*_verify_flow(Path()), "-v"], capsys)
    passes = [line for line in _lines(out) if line.startswith("PASS")]
    assert len(passes) == 3 and all(line.endswith(f"{FLEX_PACT.name}]") for line in passes)


@pytest.mark.network  # the contact center listens on 127.0.0.1
def test_verify_quiet_keeps_the_failures_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app()

    @app.before_request
    def no_ticket():
        return jsonify({"ticket": None}), 201

    with LocalServer(app) as server:
        code, out, _ = _run(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"), "-q"],
                            capsys)
    lines = _lines(out)
    assert code == 1 and lines[-1].startswith("contract verification FAILED: 0/2")
    assert sum(line.startswith("FAIL ") for line in lines) == 2 and not any(line.startswith("PASS") for line in lines)
    assert any("$.ticket_id" in line for line in lines)


@pytest.mark.network
def test_verify_quiet_on_a_pass_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalServer(create_app()) as server:
        code, out, _ = _run(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"), "-q"],
                            capsys)
    assert code == 0 and len(_lines(out)) == 1 and _lines(out)[0].startswith("contract verified: 2/2")


def test_replay_quiet_and_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    ok, bad = str(REPLAY / "flex_handoff.json"), str(REPLAY / "flex_handoff_divergent.json")
    flow = ["--flow", str(FLOWS / "flex_messaging.json")]
    code, out, _ = _run(["replay", "execution", ok, bad, *flow, "-q"], capsys)
    quiet = _lines(out)
    assert code == 1 and quiet[0].startswith("ok ") and quiet[1].startswith("FAIL ")
    assert any("evaluated input" in line for line in quiet)  # a failure is shown whole
    _, out, _ = _run(["replay", "execution", ok, *flow, "-v"], capsys)
    steps = [line.strip() for line in _lines(out) if line.strip().startswith("step ")]
    assert steps[0] == "step 1: Trigger —incomingMessage→ HotelBot" and len(steps) == 4


def test_coverage_quiet_is_the_summary_line_and_verbose_lists_every_miss(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = str(write_results(tmp_path))
    _, out, _ = _run(["coverage", results, "-q"], capsys)
    assert _lines(out) == [line for line in _lines(out) if line.startswith("coverage of 3 case(s)")] and out
    _, normal, _ = _run(["coverage", results], capsys)
    _, verbose, _ = _run(["coverage", results, "-v"], capsys)
    assert "… and " in normal and "… and " not in verbose
    assert sum(line.strip().startswith("missed:") for line in verbose.splitlines()) > \
        sum(line.strip().startswith("missed:") for line in normal.splitlines())
    code, out, err = _run(["coverage", results, "-q", "--fail-under-tasks", "100"], capsys)
    assert code == 1 and len(_lines(out)) == 1 and "task coverage" in err


def test_report_quiet_names_the_failures_and_verbose_every_case_failures_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = str(write_results(tmp_path))
    _, out, _ = _run(["report", results, "-o", str(tmp_path / "r.html"), "-q"], capsys)
    assert _lines(out) == ["failed  flow.yaml :: flow.yaml::goodbye",
                           f"wrote {tmp_path / 'r.html'} (3 cases, 1 failed)"]
    _, out, _ = _run(["report", results, "-o", str(tmp_path / "r.html"), "-v"], capsys)
    assert [line.split()[0] for line in _lines(out)] == ["failed", "passed", "passed", "wrote"]


def test_nlu_eval_quiet_lists_the_misses_then_the_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["nlu-eval", str(BOT), "--folds", "2", "-q"], capsys)
    lines = _lines(out)
    assert code == 0 and lines[-1].startswith("cross-validation: ") and "accuracy" in lines[-1]
    assert all(line.startswith("MISS cross-validation: ") for line in lines[:-1])
    assert "confusion matrix" not in out
    _, verbose, _ = _run(["nlu-eval", str(BOT), "--folds", "2", "-v"], capsys)
    per_item = [line for line in verbose.splitlines() if line.startswith(("ok   cross", "MISS cross"))]
    samples = sum(len(task["samples"]) for task in json.loads(BOT.read_text())["tasks"])
    assert len(per_item) == samples  # 2-fold cross-validation predicts every sample once
    assert len(lines) - 1 == sum(line.startswith("MISS") for line in per_item)
    assert "confusion matrix" in verbose


def test_contracts_generate_quiet_prints_the_final_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schemas = [ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"] * 2  # one line per schema
    argv = ["contracts", "generate", *(a for s in schemas for a in ("--schema", str(s))), "--pact-dir", str(tmp_path)]
    code, out, _ = _run(argv, capsys)
    assert code == 0 and len(_lines(out)) == len(schemas) >= 2
    code, quiet, _ = _run([*argv, "-q"], capsys)
    assert code == 0 and _lines(quiet) == _lines(out)[-1:]


@pytest.mark.parametrize("argv", [["verify", "--pact", "x", "--provider-base-url", "http://h", "-q", "-v"],
                                  ["report", "r.json", "-q", "-v"], ["coverage", "r.json", "-v", "-q"]])
def test_quiet_and_verbose_together_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2 and "not allowed with argument" in capsys.readouterr().err
