"""Finding twilio-run: a missing install names both ways to install it and each folder searched once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engines.twilio.functions import TWILIO_RUN_ENV, find_twilio_run
from harness.errors import UsageError


def test_twilio_run_missing_names_both_installs_and_each_folder_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(TWILIO_RUN_ENV, raising=False)
    with pytest.raises(UsageError) as caught:
        find_twilio_run(tmp_path, cwd=tmp_path)
    err = caught.value
    assert str(tmp_path.resolve()) in err.message and " and " not in err.message
    assert "npm install --save-dev twilio-run@5.0.1" in err.hint and "npm ci" in err.hint
