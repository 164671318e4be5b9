"""python -m engine: the command-line face of the studio. Exit 0 ok, 2 invalid input, 1 run failed."""

from engine.cli.main import main

raise SystemExit(main())
