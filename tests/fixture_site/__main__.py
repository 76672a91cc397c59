"""``python -m tests.fixture_site``: see :func:`tests.fixture_site.cli.main`."""

import sys

from tests.fixture_site.cli import main

sys.exit(main())
