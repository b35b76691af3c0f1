"""Entry point: settings from the environment -> bootstrap -> run."""

from __future__ import annotations

import sys

from medlofte_bot.bootstrap import main

if __name__ == "__main__":
    sys.exit(main())
