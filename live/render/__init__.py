"""Server-side images (word clouds, charts): pure functions, cached, rendered off the event loop."""
