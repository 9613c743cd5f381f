"""Palabre: live polls, word clouds, idea walls and Q&A for round tables and workshops.

This module stays free of imports so that `live.runtime` can monkey-patch the standard
library (eventlet, gevent) before Flask or anything else is loaded.
"""


def create_app(test_config: dict | None = None):
    """Build the application (see `live.app.create_app`)."""
    from live.app import create_app as build

    return build(test_config)
