"""Fetching, discovery, parsing, sync and scheduling, and the ``statements`` command line."""
