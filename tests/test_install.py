"""The installed distribution claims one import root, `refmodel`, and ships its specs and py.typed.

Read from the installed distribution's own file list; skipped for an editable install (whose files are the
editable finder's, not the package's)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from importlib import metadata

import pytest

DIST = "consensus-refmodel"


def _installed_files() -> list[str]:
    # the installed copy in site-packages, not a build's .egg-info that the current directory may hold
    found = list(metadata.distributions(name=DIST, path=[sysconfig.get_paths()["purelib"]]))
    if not found:
        pytest.skip("consensus-refmodel is not installed in site-packages")
    dist = found[0]
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        pytest.skip("editable install: the file list is the editable finder's")
    return [str(f) for f in dist.files or []]


def test_one_top_level_import_name():
    tops = {f.split("/")[0] for f in _installed_files() if not f.startswith("..")}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"refmodel"}, tops


def test_specs_and_typing_marker_are_shipped():
    files = set(_installed_files())
    assert "refmodel/py.typed" in files
    assert "refmodel/specs/raft_n2_t2_l1_c1_m1.toml" in files
    assert any(f.startswith("refmodel/model/etcdraft/") for f in files)


def test_old_top_level_names_are_gone(tmp_path):
    code = "import importlib.util as u; print([n for n in ('model', 'invariants', 'checkers') if u.find_spec(n)])"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    ok = subprocess.run([sys.executable, "-c", "import refmodel.model.raft"], cwd=tmp_path)
    assert ok.returncode == 0
