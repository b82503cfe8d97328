"""Register decoding: word order, byte order, type, scale and offset. Pure functions."""

from __future__ import annotations

import math
import struct
from typing import Literal

Order = Literal["big", "little"]
Value = int | float | str | bool

_STRUCT = {
    "uint16": ">H",
    "int16": ">h",
    "uint32": ">I",
    "int32": ">i",
    "uint64": ">Q",
    "int64": ">q",
    "float32": ">f",
}


class DecodeError(ValueError):
    """The registers do not hold a value of the configured type."""


def registers_to_bytes(registers: list[int], word_order: Order, byte_order: Order) -> bytes:
    """Bytes of the registers, most significant first, after undoing the device's orders."""
    for word in registers:
        if not 0 <= word <= 0xFFFF:
            raise DecodeError(f"register value {word} is not a 16-bit word")
    words = registers if word_order == "big" else list(reversed(registers))
    if byte_order == "little":
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return b"".join(w.to_bytes(2, "big") for w in words)


def decode(
    registers: list[int],
    type_: str,
    word_order: Order = "big",
    byte_order: Order = "big",
    scale: float = 1.0,
    offset: float = 0.0,
) -> Value:
    """Decode one value from 16-bit registers."""
    if type_ == "bool":
        return bool(registers[0])
    if type_ == "string":
        raw = registers_to_bytes(registers, "big", byte_order)
        return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    fmt = _STRUCT.get(type_)
    if fmt is None:
        raise DecodeError(f"unknown type {type_!r}")
    data = registers_to_bytes(registers, word_order, byte_order)
    if len(data) != struct.calcsize(fmt):
        raise DecodeError(
            f"{type_} needs {struct.calcsize(fmt) // 2} registers, got {len(registers)}"
        )
    (value,) = struct.unpack(fmt, data)
    if type_ == "float32" and not math.isfinite(value):
        raise DecodeError(f"float32 value {value} is not a number")
    if scale == 1.0 and offset == 0.0:
        return value  # type: ignore[no-any-return]
    return float(value) * scale + offset


def as_count(value: Value) -> int:
    """A counter reading as a non-negative integer, or DecodeError."""
    if isinstance(value, bool | str):
        raise DecodeError(f"counter value {value!r} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DecodeError(f"counter value {value} is not a number")
        value = round(value)
    if value < 0:
        raise DecodeError(f"counter value {value} is negative")
    return value
