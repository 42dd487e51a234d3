"""``python -m maskjax`` runs the command line (same as the ``maskjax`` entry point)."""

from maskjax.app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
