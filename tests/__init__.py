"""ministack test suite."""
