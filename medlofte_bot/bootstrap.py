"""The one place that sees everything: settings, storage, clock, planner and chat."""

from __future__ import annotations

import os

from dotenv import load_dotenv

from medlofte_bot import cli


def main() -> int:
    """Run the bot; until the chat exists, print the configured year's plan."""
    load_dotenv()
    configs = os.environ.get("MEDLOFTE_CONFIG") or "config/arvidsjaur-2015.toml"
    return cli.main(["plan", *[c.strip() for c in configs.split(",") if c.strip()]])
