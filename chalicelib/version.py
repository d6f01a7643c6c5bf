"""The version this code reports: `GET /health` and each function's first log line (`function_started`).

Bump it with a CHANGELOG.md entry (Keep a Changelog, Semantic Versioning); a test checks the two agree.
"""

VERSION = "1.1.0.dev0"
