"""W3C Bitstring Status List v1.0: the compressed bitstring, as pure functions.

Bit 0 is the most significant bit of the first byte (the spec's "left-most" bit). The list is
gzip-compressed and multibase base64url-encoded ('u' prefix, no padding). The minimum length the
spec asks for (16 KiB = 131,072 entries) is what hides one holder's status among many: a verifier
fetching the list learns nothing about which credential it checks.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

LIST_LENGTH = 131_072  # bits; the spec's minimum, for herd privacy


def encode(set_indices: Iterable[int], length: int = LIST_LENGTH) -> str:
    bits = bytearray(length // 8)
    for index in set_indices:
        if not 0 <= index < length:
            raise ValueError(f"status index {index} out of range")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same revocations always give the same bytes.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode(encoded_list: str) -> bytes:
    if not encoded_list.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u')")
    data = encoded_list[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def is_set(encoded_list: str, index: int) -> bool:
    bits = decode(encoded_list)
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} out of range")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
