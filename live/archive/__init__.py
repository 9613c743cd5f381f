"""Session and event archives: export (ZIP of JSON, CSV, charts, report) and import.

Layering: the archive reads the feature services and tables (polls, word clouds, boards);
no feature imports the archive. Each activity kind contributes its part through the
registry in `live.archive.kinds`.
"""
