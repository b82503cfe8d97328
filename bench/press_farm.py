"""Many simulated presses in one process, each on its own Modbus TCP port (for benchmarks)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from simulators.press_server import PressOptions, PressSimulator


async def serve(count: int, base_port: int, sheets_per_hour: float) -> None:
    """Run `count` running presses on ports base_port, base_port + 1, ..."""
    presses = [
        PressSimulator(
            PressOptions(
                port=base_port + i,
                start=True,
                lifetime=1_000_000,
                sheets_per_hour=sheets_per_hour,
                tick_seconds=0.5,
            )
        )
        for i in range(count)
    ]
    tasks = [asyncio.create_task(p.run()) for p in presses]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("base_port", type=int)
    parser.add_argument("--sheets-per-hour", type=float, default=12_000)
    args = parser.parse_args()
    asyncio.run(serve(args.count, args.base_port, args.sheets_per_hour))


if __name__ == "__main__":
    main()
