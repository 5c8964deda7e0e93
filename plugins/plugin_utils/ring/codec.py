# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain-data encoding of the builder's large arrays (JSON strings, not pickles).

A row of device ids is little-endian uint16, zlib-compressed, then base64: a part power 20
ring stays a few MB of JSON instead of tens of MB of number lists.
"""

from __future__ import annotations

import base64
import sys
import zlib
from array import array

from .errors import RingError

ROW_ENCODING = "zlib+base64:uint16le"
BYTE_ENCODING = "zlib+base64:uint8"


def encode_u16(row):
    if sys.byteorder != "little":
        row = array("H", row)
        row.byteswap()
    return base64.b64encode(zlib.compress(row.tobytes(), 1)).decode("ascii")


def decode_u16(text, expected_len=None):
    try:
        raw = zlib.decompress(base64.b64decode(text))
    except (ValueError, zlib.error, TypeError) as exc:
        raise RingError(f"ring state: a replica row is not valid {ROW_ENCODING} data ({exc})") from None
    row = array("H")
    row.frombytes(raw)
    if sys.byteorder != "little":
        row.byteswap()
    if expected_len is not None and len(row) != expected_len:
        raise RingError(f"ring state: a replica row holds {len(row)} partitions, expected {expected_len}")
    return row


def encode_u8(data):
    return base64.b64encode(zlib.compress(bytes(data), 1)).decode("ascii")


def decode_u8(text, expected_len=None):
    try:
        raw = bytearray(zlib.decompress(base64.b64decode(text)))
    except (ValueError, zlib.error, TypeError) as exc:
        raise RingError(f"ring state: last_part_moves is not valid {BYTE_ENCODING} data ({exc})") from None
    if expected_len is not None and len(raw) != expected_len:
        raise RingError(f"ring state: last_part_moves holds {len(raw)} partitions, expected {expected_len}")
    return raw
