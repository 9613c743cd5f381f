"""The quick start: a session started in one click, ready-made activities launched in one more."""
