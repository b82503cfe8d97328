"""Register decoding and the counter odometer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.domain.counters import OdometerState, advance_odometer
from edge.domain.registers import DecodeError, decode


@pytest.mark.parametrize(
    ("registers", "type_", "order", "expected"),
    [
        ([0x0001, 0x0002], "uint32", "big", 0x00010002),
        ([0x0001, 0x0002], "uint32", "little", 0x00020001),
        ([0xFFFF], "int16", "big", -1),
        ([0xFFFF], "uint16", "big", 65535),
        ([0xFFFF, 0xFFFE], "int32", "big", -2),
        ([0x8000, 0x0000], "uint32", "big", 2**31),
    ],
)
def test_decode_table(registers: list[int], type_: str, order: str, expected: int) -> None:
    assert decode(registers, type_, order) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("registers", "type_", "word", "byte", "scale", "offset", "expected"),
    [
        ([0x3F80, 0x0000], "float32", "big", "big", 1.0, 0.0, 1.0),
        ([0x0000, 0x3F80], "float32", "little", "big", 1.0, 0.0, 1.0),
        ([0x803F, 0x0000], "float32", "big", "little", 1.0, 0.0, 1.0),
        ([0, 0, 0, 7], "uint64", "big", "big", 1.0, 0.0, 7),
        ([7, 0, 0, 0], "uint64", "little", "big", 1.0, 0.0, 7),
        ([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], "int64", "big", "big", 1.0, 0.0, -2),
        ([250], "int16", "big", "big", 0.1, -5.0, 20.0),
        ([0x4A30, 0x3031, 0x0000], "string", "big", "big", 1.0, 0.0, "J001"),
        ([0x304A, 0x3130], "string", "big", "little", 1.0, 0.0, "J001"),
        ([1], "bool", "big", "big", 1.0, 0.0, True),
    ],
)
def test_decode_types_orders_and_scaling(
    registers: list[int],
    type_: str,
    word: str,
    byte: str,
    scale: float,
    offset: float,
    expected: object,
) -> None:
    assert decode(registers, type_, word, byte, scale, offset) == pytest.approx(expected)  # type: ignore[arg-type]


def test_decode_refuses_nan_and_short_input() -> None:
    with pytest.raises(DecodeError, match="not a number"):
        decode([0x7FC0, 0x0000], "float32")
    with pytest.raises(DecodeError, match="needs 2 registers"):
        decode([1], "uint32")


def test_decode_rejects_values_that_are_not_words() -> None:
    with pytest.raises(DecodeError, match="16-bit"):
        decode([70000], "uint16", "big")


def test_first_reading_only_sets_the_baseline() -> None:
    step = advance_odometer(OdometerState(0, None, None), 40_000, 0.0, 16, 18_000)
    assert (step.kind, step.added, step.state.total) == ("first", 0, 0)


def test_plausible_drop_near_the_maximum_is_a_wrap() -> None:
    start = OdometerState(100, 65_500, 0.0)
    step = advance_odometer(start, 30, 10.0, 16, 18_000)  # 66 sheets in 10 s at 18,000/h
    assert (step.kind, step.added, step.state.total) == ("wrap", 66, 166)


def test_drop_far_from_the_maximum_is_a_reset() -> None:
    start = OdometerState(100, 2_000, 0.0)
    step = advance_odometer(start, 30, 10.0, 16, 18_000)
    assert (step.kind, step.added, step.state.total) == ("reset", 30, 130)


def test_drop_too_large_for_the_rated_speed_is_a_reset() -> None:
    start = OdometerState(0, 60_000, 0.0)
    step = advance_odometer(start, 30_000, 1.0, 16, 18_000)  # 35,536 sheets in 1 s: no
    assert step.kind == "reset"


@given(
    bits=st.sampled_from([16, 32]),
    start=st.integers(min_value=0, max_value=2**16 - 1),
    increments=st.lists(st.integers(min_value=0, max_value=50), max_size=300),
)
def test_odometer_equals_the_truth_across_any_number_of_wraps(
    bits: int, start: int, increments: list[int]
) -> None:
    """GIVEN a counter read every second at up to 50 sheets/s, THEN no sheet is lost."""
    modulus = 1 << bits
    truth = start
    state = OdometerState(0, None, None)
    state = advance_odometer(state, truth % modulus, 0.0, bits, 180_000).state
    for second, added in enumerate(increments, start=1):
        truth += added
        state = advance_odometer(state, truth % modulus, float(second), bits, 180_000).state
    assert state.total == truth - start
