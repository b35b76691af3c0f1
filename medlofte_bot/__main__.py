"""``python -m medlofte_bot``: the command line."""

from medlofte_bot.cli import main

raise SystemExit(main())
