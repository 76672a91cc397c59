"""``python -m crawler.cli``: the ``statements`` command."""

from crawler.cli.main import entry

entry()
