"""Coverage: a dimension with nothing to measure is n/a, and a limit on it says so."""

from __future__ import annotations

from harness.insight.coverage import CoverageReport, coverage_failures, coverage_text


def test_an_empty_dimension_is_na_and_a_limit_on_it_says_so() -> None:
    report = CoverageReport(bots=[], flows=[], cases=1)
    assert report.transition_percent is None and report.to_dict()["summary"]["transitions"] is None
    assert "transitions n/a" in coverage_text(report)
    [line] = coverage_failures(report, transitions=50)
    assert "n/a" in line and "--fail-under-transitions" in line
    assert coverage_failures(report) == []
