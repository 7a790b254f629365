#!/usr/bin/env python3
"""A Gemini computer-use loop on a Cubicle sandbox (docs/agents.md).

Each answer of the model goes to cubicled as it is, and the function
responses cubicled answers go back as they are. A call the model wants
confirmed runs only when the person running it says yes (--yes confirms
every one). Live, it asks Gemini (the google-genai package and
GEMINI_API_KEY); with --replay it plays recorded answers instead
(recorded/gemini.json), offline, which is how the test suite runs it.

    CUBICLE_URL=... CUBICLE_API_KEY=... ./gemini_loop.py --sandbox ID "task"
    ./gemini_loop.py --sandbox ID --replay recorded/gemini.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
from cubicle import Cubicle, SafetyCheckPending  # noqa: E402

MODEL = "gemini-3.5-flash"


def live(task):
    from google import genai
    from google.genai import types
    client = genai.Client()
    config = types.GenerateContentConfig(tools=[types.Tool(computer_use=types.ComputerUse(
        environment=types.Environment.ENVIRONMENT_BROWSER))])
    contents = [types.Content(role="user", parts=[types.Part(text=task)])]

    def ask(answer):
        if answer:
            contents.append(types.Content.model_validate(answer))
        resp = client.models.generate_content(model=MODEL, contents=contents, config=config)
        contents.append(resp.candidates[0].content)
        return resp.model_dump(mode="json", by_alias=True, exclude_none=True)
    return ask


def replay(path):
    with open(path, encoding="utf-8") as f:
        recorded = iter(json.load(f))
    return lambda answer: next(recorded)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sandbox", required=True)
    p.add_argument("--replay", help="recorded answers (a JSON list) instead of Gemini")
    p.add_argument("--yes", action="store_true", help="confirm every call the model asks to")
    p.add_argument("--max-turns", type=int, default=50)
    p.add_argument("task", nargs="?", default="Open a terminal and run uname -a.")
    a = p.parse_args()
    sb = Cubicle().sandbox(a.sandbox)
    ask = replay(a.replay) if a.replay else live(a.task)
    answer = None
    for _ in range(a.max_turns):
        resp = ask(answer)
        parts = resp["candidates"][0]["content"].get("parts", [])
        if not any("functionCall" in p or "function_call" in p for p in parts):
            print("".join(p.get("text", "") for p in parts))
            return 0
        try:
            answer = sb.gemini(resp)
        except SafetyCheckPending as e:
            print(f"{len(e.pending)} calls ask for a person's confirmation", file=sys.stderr)
            if not (a.yes or input("go on? [y/N] ").strip().lower() == "y"):
                raise SystemExit("stopped at a safety decision")
            answer = sb.gemini(resp, acknowledge=True)
        print(f"{len(answer['parts'])} function responses", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
