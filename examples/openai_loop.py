#!/usr/bin/env python3
"""An OpenAI computer-use loop on a Cubicle sandbox (docs/agents.md).

Each computer_call the model returns goes to cubicled as it is, and the
computer_call_output cubicled answers goes back as it is. Safety checks are
shown and acknowledged only when the person running it says yes (--yes
acknowledges every one). Live, it asks OpenAI (the openai package and
OPENAI_API_KEY); with --replay it plays recorded responses instead
(recorded/openai.json), offline, which is how the test suite runs it.

    CUBICLE_URL=... CUBICLE_API_KEY=... ./openai_loop.py --sandbox ID "task"
    ./openai_loop.py --sandbox ID --replay recorded/openai.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
from cubicle import Cubicle, SafetyCheckPending  # noqa: E402

MODEL = "gpt-5.5"


def live(task):
    from openai import OpenAI
    client = OpenAI()
    items = [{"role": "user", "content": task}]

    def ask(outputs):
        items.extend(outputs)
        resp = client.responses.create(model=MODEL, tools=[{"type": "computer"}], input=items)
        output = [o.model_dump() for o in resp.output]
        items.extend(output)
        return {"output": output}
    return ask


def replay(path):
    with open(path, encoding="utf-8") as f:
        recorded = iter(json.load(f))
    return lambda outputs: next(recorded)


def run_call(sb, call, yes):
    try:
        return sb.openai(call)
    except SafetyCheckPending as e:
        for check in e.pending:
            print(f"safety check {check.get('code')}: {check.get('message')}", file=sys.stderr)
        if not (yes or input("go on? [y/N] ").strip().lower() == "y"):
            raise SystemExit("stopped at a safety check")
        return sb.openai(call, acknowledge=[c["id"] for c in e.pending])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sandbox", required=True)
    p.add_argument("--replay", help="recorded responses (a JSON list) instead of OpenAI")
    p.add_argument("--yes", action="store_true", help="acknowledge every safety check")
    p.add_argument("--max-turns", type=int, default=50)
    p.add_argument("task", nargs="?", default="Open a terminal and run uname -a.")
    a = p.parse_args()
    sb = Cubicle().sandbox(a.sandbox)
    ask = replay(a.replay) if a.replay else live(a.task)
    outputs = []
    for _ in range(a.max_turns):
        resp = ask(outputs)
        calls = [o for o in resp["output"] if o["type"] == "computer_call"]
        if not calls:
            for o in resp["output"]:
                if o["type"] == "message":
                    print("".join(c.get("text", "") for c in o["content"]))
            return 0
        outputs = [run_call(sb, c, a.yes) for c in calls]
        print(f"{len(outputs)} computer_call_output", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
