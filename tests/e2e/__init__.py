"""Browser tests: a real headless Chromium against a running app."""
