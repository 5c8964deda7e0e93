"""Prints the bad-input matrix's case count in pytest's summary (seen with -q too)."""

from __future__ import annotations

COUNTS: dict = {}


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        total = sum(COUNTS.values())
        terminalreporter.write_line(f"bad-input matrix: {total} cases tried over {len(COUNTS)} modules")
