"""The package as installed: a wheel carries its profiles, prices and traces and plays from any
folder; shipped traces by name; trace files that resume from another folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, TRACES, Run

pytestmark = pytest.mark.slow

SHIPPED = [
    "arena/data/pricing.toml",
    "arena/data/profiles/stockfish-club.toml",
    "arena/data/traces/gpt5-4c277d18.jsonl",
    "arena/data/traces/gpt5-cd188ca0.jsonl",
    "arena/data/traces/README.md",
    "arena/data/traces/LICENSE",
    "arena/tui/app.tcss",
]


def _run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def test_a_wheel_installed_elsewhere_plays_from_any_folder(tmp_path: Path) -> None:
    """Builds a wheel from a copy of the checkout, installs it into a fresh venv (its
    dependencies come from the test venv, so no network is needed) and plays from a folder
    that has nothing of the checkout in it."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "arena", src / "arena", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARENA_PROFILES")}
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("OPENAI_API_KEY", None)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = _run(
        *pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("arena-*.whl")
    assert set(SHIPPED) <= set(zipfile.ZipFile(wheel).namelist())

    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run(*pip, "--python", python, "install", "--no-deps", wheel, cwd=tmp_path, env=env)
    assert installed.returncode == 0, installed.stderr
    # The dependencies (textual, chess, ...) from this venv; its editable `arena` stays out,
    # because a path in a .pth file adds the folder without running the folder's own .pth files.
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                cwd=tmp_path, env=env).stdout.strip()  # fmt: skip
    (Path(site) / "dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env |= {"ARENA_DB": str(tmp_path / "db" / "arena.db"), "HOME": str(tmp_path / "home")}
    where = _run(python, "-c", "import arena; print(arena.__file__)", cwd=elsewhere, env=env)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr

    played = _run(
        venv / "bin" / "arena", "play", "--headless", "--white", "stockfish-club",
        "--black", "random", "--max-plies", "6", "--json", cwd=elsewhere, env=env,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    result = json.loads(played.stdout)
    assert result["plies"] == 6 and len(result["moves"]) == 6
    assert (tmp_path / "db" / "arena.db").is_file()
    assert list(elsewhere.iterdir()) == []  # nothing lands in the folder the user stands in

    listed = _run(venv / "bin" / "arena", "profiles", cwd=elsewhere, env=env)
    assert "stockfish-club" in listed.stdout and "claude-sonnet" in listed.stdout
    traced = _run(
        venv / "bin" / "arena", "play", "--headless", "--white", "trace:gpt5-4c277d18",
        "--black", "trace:gpt5-4c277d18", "--speculator", "trace-guesses",
        "--time-scale", "0.0001", "--max-plies", "4", "--json", cwd=elsewhere, env=env,
    )  # fmt: skip
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout)["moves"] == ["e2e4", "e7e5", "g1f3", "b8c6"]


def test_a_relative_trace_file_resumes_from_another_folder(arena: Run, tmp_path: Path) -> None:
    (tmp_path / "games").mkdir()
    shutil.copy(TRACES / "gpt5-cd188ca0.jsonl", tmp_path / "games" / "g.jsonl")
    spec = "trace:games/g.jsonl"
    first = arena(
        "play", "--headless", "--json", "--white", spec, "--black", spec, "--no-speculation",
        "--time-scale", "0.0001", "--max-plies", "4",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    match_id = json.loads(first.stdout)["match_id"]
    other = tmp_path / "other"
    other.mkdir()
    env = {**os.environ, "ARENA_DB": str(tmp_path / "arena.db")}
    resumed = _run(
        sys.executable, "-m", "arena", "resume", match_id, "--headless", "--json",
        "--max-plies", "8", cwd=other, env=env,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["plies"] == 8  # the stored spec names the file by its absolute path


def test_bench_defaults_to_the_shipped_traces(arena: Run) -> None:
    proc = arena(
        "bench", "speculation", "--speculator", "random", "--k", "1",
        "--time-scale", "0.0001", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [Path(t).stem for t in out["traces"]] == ["gpt5-4c277d18", "gpt5-cd188ca0"]
    assert out["results"][0]["plies"] == 100
