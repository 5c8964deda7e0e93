"""extra_specs_ops.match against Nova's documented operator semantics."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.extra_specs_ops import match


@pytest.mark.parametrize(
    ("value", "requirement", "expected"),
    [
        # '=' means "at least" numerically.
        ("123", "= 123", True),
        ("124", "= 123", True),
        ("122", "= 123", False),
        ("12.5", "= 12", True),
        ("abc", "= 123", False),  # not a number: no match
        ("123", "== 123", True),
        ("123.0", "== 123", True),
        ("124", "== 123", False),
        ("124", "!= 123", True),
        ("123", "!= 123", False),
        ("124", ">= 123", True),
        ("123", ">= 123", True),
        ("122", ">= 123", False),
        ("122", "<= 123", True),
        ("124", "<= 123", False),
        # String comparisons.
        ("kvm", "s== kvm", True),
        ("qemu", "s== kvm", False),
        ("qemu", "s!= kvm", True),
        ("kvm", "s!= kvm", False),
        ("abc", "s< abd", True),
        ("abd", "s< abd", False),
        ("abd", "s<= abd", True),
        ("abe", "s<= abd", False),
        ("abe", "s> abd", True),
        ("abc", "s> abd", False),
        ("abd", "s>= abd", True),
        ("abc", "s>= abd", False),
        # 10 < 9 as strings: the s-operators compare text, not numbers.
        ("10", "s< 9", True),
        # Substring and set membership.
        ("avx avx2 sse4", "<in> avx2", True),
        ("avx sse4", "<in> avx2", False),
        ("aes,avx,sse4", "<all-in> aes avx", True),
        ("aes,sse4", "<all-in> aes avx", False),
        # Choices.
        ("b", "<or> a <or> b <or> c", True),
        ("a", "<or> a <or> b", True),
        ("d", "<or> a <or> b <or> c", False),
        # No operator: the whole string must be equal.
        ("kvm", "kvm", True),
        ("kvm2", "kvm", False),
        ("true", "True", False),
        ("ssd fast", "ssd fast", True),
        # An operator with no operand never matches.
        ("1", ">=", False),
        ("x", "<in>", False),
    ],
)
def test_match(value, requirement, expected):
    assert match(value, requirement) is expected


def test_none_value_never_matches_an_operator():
    assert match(None, ">= 1") is False
    assert match(None, "<or> a <or> b") is False
