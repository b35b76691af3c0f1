"""The production shape in deploy/: compose.yaml, the Caddyfile, .env.example, the Dockerfile.

Docker is not needed: the files are read as data and checked for what a deployment relies
on (the order services start in, where secrets come from, who is reachable from outside).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from medlofte_bot.settings import ALIASES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# what a Telegram bot token looks like: the bot's id, a colon, 35 characters
TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
SECRET_NAMES = ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "MEDLOFTE_WEBHOOK_SECRET",
                "POSTGRES_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def _caddy_upstreams() -> list[str]:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    match = re.search(r"^\s*reverse_proxy\s+([^{\n]+)\{", caddyfile, re.MULTILINE)
    assert match, "the Caddyfile has one reverse_proxy with its upstreams on the same line"
    return match[1].split()


def test_the_four_services_and_their_volumes(compose: dict[str, Any],
                                             services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"db", "migrate", "bot", "proxy"}
    assert compose["name"] == "medlofte"  # the replicas' container names in the Caddyfile
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["restart"] == "unless-stopped"


def test_migrate_runs_once_after_the_database_is_healthy(
        services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "medlofte_bot", "migrate"]
    assert migrate["restart"] == "no"  # one-shot: it exits, and is not started again
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "replicas" not in migrate.get("deploy", {})
    assert migrate["image"] == services["bot"]["image"]  # the same code as the replicas


def test_several_bot_replicas_start_only_after_the_migration_succeeded(
        services: dict[str, dict[str, Any]]) -> None:
    bot = services["bot"]
    assert bot["deploy"]["replicas"] > 1
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"},
                                 "migrate": {"condition": "service_completed_successfully"}}
    assert bot["command"] == ["python", "bot.py"]
    assert "container_name" not in bot  # a fixed name cannot be scaled
    assert "ports" not in bot  # reachable through the proxy only
    assert bot["restart"] == "unless-stopped"


def test_secrets_come_from_the_env_file_and_no_token_is_written_anywhere(
        services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", "bot"):
        assert services[name]["env_file"] == ".env"
        environment = services[name].get("environment", {})
        assert not set(SECRET_NAMES) & set(environment), f"{name} writes a secret in the file"
    password = services["db"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")  # from .env, and required
    for path in ("compose.yaml", "Caddyfile", ".env.example"):
        assert not TOKEN_SHAPE.search((DEPLOY / path).read_text(encoding="utf-8")), path
    example = _env_example()
    assert example["TELEGRAM_BOT_TOKEN"] == "" and example["MEDLOFTE_WEBHOOK_SECRET"] == ""
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "MEDLOFTE_WEBHOOK_URL",
            "MEDLOFTE_WEBHOOK_SECRET", "POSTGRES_PASSWORD", "MEDLOFTE_DOMAIN"} <= set(example)
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored  # deploy/.env too: a pattern without a slash matches anywhere


def test_the_example_env_points_the_bot_at_the_compose_database_and_the_proxy_domain() -> None:
    example = _env_example()
    assert re.fullmatch(r"postgresql://medlofte:[^@]+@db:5432/medlofte", example["DATABASE_URL"])
    password = example["DATABASE_URL"].split(":")[2].split("@")[0]
    assert password == example["POSTGRES_PASSWORD"]
    webhook = re.fullmatch(r"https://([^/]+)(/\S+)", example["MEDLOFTE_WEBHOOK_URL"])
    assert webhook and webhook[1] == example["MEDLOFTE_DOMAIN"]


def test_every_variable_of_the_bot_in_the_example_env_is_a_setting_and_replicas_share_30_per_s(
        services: dict[str, dict[str, Any]]) -> None:
    own = {"POSTGRES_PASSWORD", "MEDLOFTE_DOMAIN"}  # the database's and the proxy's
    assert set(_env_example()) - own <= set(ALIASES.values())
    bot = services["bot"]
    assert set(bot["environment"]) <= set(ALIASES.values())
    rate = float(bot["environment"]["MEDLOFTE_SEND_RATE"])
    assert 0 < rate * bot["deploy"]["replicas"] <= 30  # Telegram's limit is per bot


def test_replicas_listen_where_the_proxy_and_the_healthchecks_look(
        services: dict[str, dict[str, Any]]) -> None:
    bot = services["bot"]
    listen = bot["environment"]["MEDLOFTE_LISTEN"]
    host, port = listen.rsplit(":", 1)
    assert host == "0.0.0.0"
    probe = " ".join(bot["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe
    replicas = bot["deploy"]["replicas"]
    assert _caddy_upstreams() == [f"medlofte-bot-{n}:{port}" for n in range(1, replicas + 1)]


def test_the_proxy_terminates_tls_on_80_and_443_and_checks_readyz(
        services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert any(v.endswith(":/data") for v in proxy["volumes"])  # certificates survive restarts
    assert proxy["depends_on"] == {"bot": {"condition": "service_healthy"}}
    assert "healthcheck" in proxy
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"^\{\$MEDLOFTE_DOMAIN\} \{", caddyfile, re.MULTILINE)  # automatic HTTPS
    assert re.search(r"^\s*health_uri /readyz$", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*@internal path /healthz /readyz /metrics$", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*respond @internal 404$", caddyfile, re.MULTILINE)


def test_the_production_image_installs_the_product_alone_and_listens_for_the_proxy() -> None:
    """(tests/unit/test_dockerfile.py checks that no emulator goes in.)"""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install \.$", dockerfile, re.MULTILINE)
    assert "[dev" not in dockerfile
    assert re.search(r"^ENV MEDLOFTE_LISTEN=0\.0\.0\.0:8080$", dockerfile, re.MULTILINE)
    assert re.search(r"^EXPOSE 8080$", dockerfile, re.MULTILINE)
