"""How many conversations.create calls a burst of declarations in one minute costs.  From the repository root:

    .venv/bin/python -m bench.channels                    # 10 and 100 declarations, SQLite, about 6 minutes

Each burst declares n incidents through the real signed /slack/events endpoint (concurrently, all in the same
minute of the app's clock), against the fake Slack of app/sandbox/fakeslack, in which the minute's first channel
name is already held by an archived channel the bot did not make (the worst case: one name Slack refuses).
Names come from those already stored, so Slack is asked once per incident plus once for the foreign name.
Target: at most n + 1 calls, every incident with its channel. Figures go to bench/results/channels.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from app.clock import ManualClock
from app.incidents.models import Incident
from app.main import start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.slack_driver import SlackDriver
from app.settings import PROJECT_ROOT, Settings
from bench.harness import SIGNING_SECRET, START, serve, settled

RESULTS = PROJECT_ROOT / "bench" / "results"


async def burst(count: int) -> dict[str, Any]:
    clock = ManualClock(START)
    async with FakeSlack() as fake:
        user = fake.add_user("declarer", real_name="Declarer")
        general = fake.add_channel("general", members=[user])
        fake.add_channel("incident-" + clock.now().strftime("%Y%m%d-%H%M"), is_archived=True, creator=user)
        with tempfile.TemporaryDirectory() as directory:
            playbooks = Path(directory) / "playbooks"
            shutil.copytree(PROJECT_ROOT / "playbooks", playbooks)
            rules = yaml.safe_load((playbooks / "declaring.yml").read_text())
            rules["duplicates"]["similarity"] = 1.0  # a load test: titles differ by a number only
            (playbooks / "declaring.yml").write_text(yaml.safe_dump(rules))
            settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
                                slack_api_url=fake.api_url, playbooks_dir=playbooks,
                                database_url=f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
            runtime = await start_runtime(settings, clock=clock)
            runner, url = await serve(runtime.web_app)
            driver = SlackDriver(url, fake, SIGNING_SECRET)
            try:
                await asyncio.gather(*(driver.command(f"declare P2 Burst incident number {n}", user=user,
                                                      channel=general) for n in range(count)))

                async def all_set_up() -> bool:
                    async with runtime.db.transaction() as session:
                        return (await session.scalar(select(func.count()).select_from(Incident).where(
                            Incident.kickoff_ts.is_not(None)))) == count
                await fake.wait_for(all_set_up, timeout=900)  # Tier 2 (about 20 a minute): 100 take ~5 min
                await settled(runtime, timeout=60)
            finally:
                await driver.close()
                await runner.cleanup()
                await runtime.close()
    creates = fake.calls_to("conversations.create")
    return {"declarations": count, "conversations_create_calls": len(creates),
            "within_target": len(creates) <= count + 1}


async def run(sizes: list[int]) -> list[dict[str, Any]]:
    return [await burst(size) for size in sizes]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100", help="declarations per burst, comma-separated")
    args = parser.parse_args(argv)
    results = asyncio.run(run([int(size) for size in args.sizes.split(",")]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "channels.json").write_text(json.dumps(results, indent=2))
    for result in results:
        print(f"{result['declarations']} declarations in one minute: {result['conversations_create_calls']} "
              f"conversations.create calls (target at most {result['declarations'] + 1}): "
              f"{'ok' if result['within_target'] else 'OVER'}")


if __name__ == "__main__":
    main()
