#!/usr/bin/env python3
"""A Claude computer-use loop on a Cubicle sandbox (docs/agents.md).

Each turn: the model's message goes to cubicled as it is, and the tool
results cubicled answers go back to the model as they are. Live, it asks
Claude (the anthropic package and ANTHROPIC_API_KEY); with --replay it plays
recorded model messages instead (recorded/anthropic.json), offline, which is
how the test suite runs it.

    CUBICLE_URL=... CUBICLE_API_KEY=... ./anthropic_loop.py --sandbox ID "task"
    ./anthropic_loop.py --sandbox ID --replay recorded/anthropic.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
from cubicle import Cubicle  # noqa: E402

MODEL = "claude-opus-5-5"
TOOLSET = {"type": "computer_toolset_20260801"}


def live(task):
    import anthropic
    client = anthropic.Anthropic()
    messages = [{"role": "user", "content": task}]

    def ask(results):
        if results:
            messages.append(results)
        reply = client.messages.create(model=MODEL, max_tokens=2048, tools=[TOOLSET],
                                       messages=messages)
        message = reply.model_dump()
        messages.append({"role": "assistant", "content": message["content"]})
        return message
    return ask


def replay(path):
    with open(path, encoding="utf-8") as f:
        recorded = iter(json.load(f))
    return lambda results: next(recorded)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sandbox", required=True)
    p.add_argument("--replay", help="recorded model messages (a JSON list) instead of Claude")
    p.add_argument("--max-turns", type=int, default=50)
    p.add_argument("task", nargs="?", default="Open a terminal and run uname -a.")
    a = p.parse_args()
    sb = Cubicle().sandbox(a.sandbox)
    ask = replay(a.replay) if a.replay else live(a.task)
    results = None
    for _ in range(a.max_turns):
        message = ask(results)
        if message.get("stop_reason") != "tool_use":
            print("".join(b.get("text", "") for b in message["content"] if b["type"] == "text"))
            return 0
        results = sb.anthropic(message, toolset=TOOLSET, model=MODEL)
        errors = [r for r in results["content"] if r.get("is_error")]
        print(f"{len(results['content'])} results, {len(errors)} errors", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
