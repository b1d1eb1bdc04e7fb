"""`[tool.autopilot-harness]` settings: one checked reader (defaults, values, bad values, the nearest
pyproject, the OpenAPI folders' order)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.runner.settings import OPENAPI_ENV, find_pyproject, openapi_dir, read_settings

# --- settings --------------------------------------------------------------------------------------------


def pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n\n[tool.autopilot-harness]\n" + body, encoding="utf-8")
    return path


def test_defaults_without_a_pyproject(tmp_path: Path) -> None:
    settings = read_settings(None, root=tmp_path)
    assert (settings.scenario_glob, settings.threshold, settings.openapi_dir) == ("*.scenario.yaml", None, None)


def test_values_are_read_and_openapi_dir_is_relative_to_the_pyproject(tmp_path: Path) -> None:
    settings = read_settings(pyproject(tmp_path, 'scenario_glob = "*.scn.yaml"\nthreshold = 0.05\n'
                                                 'openapi_dir = "specs"\n'))
    assert settings.scenario_glob == "*.scn.yaml" and settings.threshold == 0.05
    assert settings.openapi_dir == tmp_path.resolve() / "specs"


@pytest.mark.parametrize(("body", "key", "expected"), [
    ("scenario_glob = 5\n", "scenario_glob", "a file name pattern"),
    ('threshold = "high"\n', "threshold", "a number from 0 to 1"),
    ("threshold = 2\n", "threshold", "a number from 0 to 1"),
    ("threshold = true\n", "threshold", "a number from 0 to 1"),
    ("openapi_dir = 3\n", "openapi_dir", "a folder path"),
])
def test_a_bad_value_is_one_message_naming_the_file_and_the_key(tmp_path: Path, body: str, key: str,
                                                                 expected: str) -> None:
    path = pyproject(tmp_path, body)
    with pytest.raises(UsageError) as info:
        read_settings(path)
    text = info.value.render()
    assert text.startswith(f"{path}:5: [tool.autopilot-harness] {key}: expected {expected}")


def test_invalid_toml_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.autopilot-harness\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        read_settings(path)


def test_the_nearest_pyproject_above_the_paths_is_found(tmp_path: Path) -> None:
    pyproject(tmp_path, "")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "c").mkdir()
    assert find_pyproject([tmp_path / "a" / "b", tmp_path / "a" / "c"]) == tmp_path / "pyproject.toml"
    (tmp_path / "a" / "pyproject.toml").write_text("", encoding="utf-8")
    assert find_pyproject([tmp_path / "a" / "b"]) == tmp_path / "a" / "pyproject.toml"


def test_openapi_dir_order_environment_then_pyproject_then_shared(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    shared = tmp_path / "shared" / "real" / "openapi"
    shared.mkdir(parents=True)
    configured = root / "specs"
    configured.mkdir()
    plain = read_settings(None, root=root)
    assert openapi_dir(plain, {})[0] == shared.resolve()
    with_key = read_settings(pyproject(root, 'openapi_dir = "specs"\n'))
    assert openapi_dir(with_key, {})[0] == configured.resolve()
    env_folder = tmp_path / "env"
    env_folder.mkdir()
    assert openapi_dir(with_key, {OPENAPI_ENV: str(env_folder)})[0] == env_folder


def test_openapi_dir_missing_named_folders_are_errors_and_none_found_says_why(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=OPENAPI_ENV):
        openapi_dir(read_settings(None, root=tmp_path), {OPENAPI_ENV: str(tmp_path / "nope")})
    with pytest.raises(UsageError, match="openapi_dir: no such folder"):
        openapi_dir(read_settings(pyproject(tmp_path, 'openapi_dir = "nope"\n')), {})
    folder, reason = openapi_dir(read_settings(None, root=tmp_path / "x"), {})
    assert folder is None and OPENAPI_ENV in reason and "openapi_dir" in reason
