"""The Dockerfile cannot be built here (no Docker engine): check what it copies and runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_everything_the_dockerfile_copies_exists() -> None:
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            parts = line.split()[1:]
            sources += [p for p in parts[:-1] if not p.startswith("--")]
    assert sources, "the Dockerfile copies nothing"
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"


def test_the_image_runs_the_readme_command_as_a_non_root_user_with_a_data_volume() -> None:
    cmd = re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE)
    assert cmd and json.loads(cmd[1]) == ["python", "bot.py"]
    assert "python bot.py" in (ROOT / "README.md").read_text()
    user = re.search(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert user and user[1] not in ("root", "0")
    assert re.search(r'^VOLUME \["/app/data"\]$', DOCKERFILE, re.MULTILINE)
    assert "python:3.11-slim" in DOCKERFILE.splitlines()[0]


def test_make_docker_builds_the_image() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docker:\n\tdocker build ", makefile, re.MULTILINE)


def test_the_product_package_and_image_carry_no_emulator_and_no_aiohttp() -> None:
    """The emulator is its own project, installed by the ``demo`` extra only."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("aiohttp") for dep in project["dependencies"])
    demo = project["optional-dependencies"]["demo"]
    assert any(dep.startswith("botapi-emulator") for dep in demo)
    assert "botapi_emulator" not in DOCKERFILE and "[demo]" not in DOCKERFILE
    product = ROOT / "medlofte_bot"
    assert not (product / "emulator").exists()
    emulator = ROOT / "botapi_emulator" / "src" / "botapi_emulator"
    for source in emulator.glob("*.py"):
        assert "medlofte_bot" not in source.read_text(), f"{source.name} imports the product"
