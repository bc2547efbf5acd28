"""scripts/release-smoke: stand-ins from platforms.md, the release binary, the checks."""
