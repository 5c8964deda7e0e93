# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's extra-spec matching language.

A requirement string is ``<op> <operand>`` (for example ``">= 4"``, ``"s== kvm"``,
``"<in> avx"``, ``"<all-in> avx sse4"``, ``"<or> a <or> b"``); a string whose first
word is not an operator must equal the value exactly.  Semantics follow
nova.scheduler.filters.extra_specs_ops, including its quirks: ``=`` means
"numerically at least", and a numeric operator on a non-numeric value does not
match (Nova raises there and the host fails the filter).
"""

from __future__ import annotations

import operator


def _num(op):
    def compare(value, operand):
        return op(float(value), float(operand))

    return compare


_OPERATORS = {
    "=": _num(operator.ge),
    "==": _num(operator.eq),
    "!=": _num(operator.ne),
    ">=": _num(operator.ge),
    "<=": _num(operator.le),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
    "<in>": lambda value, operand: operand in value,
    "<all-in>": lambda value, operands: all(item in value for item in operands),
}

OPERATORS = (*_OPERATORS, "<or>")


def match(value, requirement):
    """Return True when ``value`` (a string) satisfies ``requirement``."""
    requirement = str(requirement)
    words = requirement.split()
    op = words.pop(0) if words else None
    method = _OPERATORS.get(op)
    if op != "<or>" and method is None:
        return value == requirement
    if value is None:
        return False
    if op == "<or>":
        # "<or> a <or> b": every other word is a candidate value.
        return value in words[0::2]
    if not words:
        return False
    try:
        if op == "<all-in>":
            return method(value, words)
        return method(value, words[0])
    except (TypeError, ValueError):
        return False
