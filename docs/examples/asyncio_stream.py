"""Stream events in an asyncio program: `async for event in session` waits on
the session's fd with the loop (it never blocks it), so other coroutines keep
running; the iteration ends once the session is closed."""
import asyncio
import os

import systrace


async def ticker(stats: dict) -> None:
    while True:
        await asyncio.sleep(0.01)
        stats["ticks"] += 1


async def workload(session: systrace.Session) -> None:
    for _ in range(3):
        os.getppid()
        await asyncio.sleep(0.1)
    session.close()  # ends the `async for` below once the last events are taken


async def main() -> None:
    stats = {"ticks": 0}
    tick = asyncio.ensure_future(ticker(stats))
    with systrace.enable("getppid") as session:
        work = asyncio.ensure_future(workload(session))
        async for event in session:
            print(f"tick {stats['ticks']:3}: {event}")
        await work
    tick.cancel()
    print(f"done: the ticker ran {stats['ticks']} times meanwhile")


asyncio.run(main())
