"""vm_python: the Python client against a real cubicled and a real `minimal`
sandbox, and the example loops of examples/ replayed offline on it.

Each typed error from the answer that makes it; screenshots decoded to
their size; a batch that types into a terminal, read back from the guest;
the cursor; commands whole, as argv and streamed; files both ways, stat,
list, mkdir, rename, remove; the three vendors' routes and the display a
model should be told of; a safety check pending, then acknowledged; and
each example loop's effect in the guest.

    CUBICLE_TEST_CUBICLED=... CUBICLE_TEST_GUEST_DIR=... python3 -m unittest test_client
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
import cubicle  # noqa: E402

W, H = 1024, 768
service = {}


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def setUpModule():
    data = tempfile.mkdtemp(prefix="cubicle-py-")
    with open(data + ".log", "wb") as log:
        proc = subprocess.Popen([os.environ["CUBICLE_TEST_CUBICLED"], "--data-dir", data,
                                 "--listen", "127.0.0.1:0", "--guest-dir",
                                 os.environ["CUBICLE_TEST_GUEST_DIR"], "--no-network"],
                                stdout=subprocess.PIPE, stderr=log)
    url = None
    for line in proc.stdout:
        m = re.search(rb"listening on (http://[0-9.:]+)", line)
        if m:
            url = m.group(1).decode()
            break
    proc.stdout.close()
    with open(os.path.join(data, "api-key"), encoding="utf-8") as f:
        key = f.readline().strip()
    service.update(proc=proc, data=data, url=url, key=key)
    cu = cubicle.Cubicle(url=url, key=key)
    sb = cu.create(template="minimal", resolution=f"{W}x{H}", vcpus=1, memory_mib=512,
                   timeout=3600)
    # A shell in an xterm at the top left: its middle is (240, 150); what it is typed runs.
    out = sb.run("setsid xterm -fn 6x13 -geometry 80x24+0+0 </dev/null >/dev/null 2>&1 & "
                 "timeout 60 xdotool search --sync --onlyvisible --class xterm | head -n 1")
    service.update(cu=cu, sb=sb, xterm=out.stdout.strip())


def tearDownModule():
    proc = service.get("proc")
    if proc:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    if service.get("data"):
        shutil.rmtree(service["data"], ignore_errors=True)
        try:
            os.remove(service["data"] + ".log")
        except OSError:
            pass


def guest_file(sb, path, want, seconds=30):
    """The guest file once it holds want (or what it holds after seconds)."""
    out = sb.run(f"end=$((SECONDS + {seconds})); while [ $SECONDS -lt $end ]; do "
                 f"grep -qF '{want}' {path} 2>/dev/null && break; sleep 0.2; done; cat {path}")
    return out.stdout


class Errors(unittest.TestCase):
    def test_typed(self):
        cu, sb = service["cu"], service["sb"]
        with self.assertRaises(cubicle.Unauthorized) as e:
            cubicle.Cubicle(url=service["url"], key="cbk_wrong").list()
        self.assertEqual(e.exception.code, "unauthorized")
        with self.assertRaises(cubicle.NotFound) as e:
            cu.sandbox("feedfacefeedface")
        self.assertEqual(e.exception.status, 404)
        self.assertEqual(e.exception.code, "sandbox_not_found")
        with self.assertRaises(cubicle.BadRequest) as e:
            cu.create(vcpus=999)
        self.assertIn("vcpus", e.exception.message)
        with self.assertRaises(cubicle.BadRequest):
            sb.click(W, 0)
        with self.assertRaises(cubicle.NotFound):
            sb.read("/no/such/file")
        with self.assertRaises(cubicle.Conflict):
            sb.mkdir("/tmp/full/inner")
            sb.remove("/tmp/full")
        self.assertTrue(issubclass(cubicle.SafetyCheckPending, cubicle.Conflict))


class Screen(unittest.TestCase):
    def test_screenshots(self):
        sb = service["sb"]
        self.assertEqual(png_size(sb.screenshot()), (W, H))
        self.assertEqual(png_size(sb.screenshot(scale=0.5)), (W // 2, H // 2))
        self.assertEqual(png_size(sb.screenshot(width=256)), (256, 192))
        self.assertEqual(sb.screenshot(format="jpeg", quality=50)[:2], b"\xff\xd8")
        self.assertEqual(png_size(sb.screenshot(region=(0, 0, 100, 50))), (100, 50))

    def test_hands(self):
        sb = service["sb"]
        sb.click(240, 150)
        sb.type("echo py-typed-ü > /tmp/py-typed\n")
        self.assertEqual(guest_file(sb, "/tmp/py-typed", "py-typed"), "py-typed-ü\n")
        sb.move(321, 123)
        self.assertEqual(sb.cursor(), (321, 123))
        ans = sb.actions([{"type": "move", "x": 10, "y": 20}, {"type": "cursor"}], scale=0.5,
                         screenshot=True)
        self.assertEqual(ans["results"][1]["x"], 10)
        self.assertEqual(ans["screenshot"]["width"], W)
        self.assertEqual(sb.display()["width"], W)


class Commands(unittest.TestCase):
    def test_run(self):
        sb = service["sb"]
        out = sb.run("echo out; echo err >&2; exit 4", env={"A": "1"})
        self.assertEqual((out.exit_code, out.stdout, out.stderr), (4, "out\n", "err\n"))
        self.assertEqual(sb.run(["printf", "%s-%s", "a b", "c"]).stdout, "a b-c")
        self.assertEqual(sb.run("echo $A", env={"A": "env ok"}).stdout, "env ok\n")
        self.assertEqual(sb.run("cat", stdin="fed\n").stdout, "fed\n")

    def test_stream(self):
        events = list(service["sb"].stream("for i in 1 2 3; do echo $i; sleep 0.2; done"))
        self.assertEqual("".join(e["data"] for e in events if e["type"] == "stdout"), "1\n2\n3\n")
        self.assertEqual(events[-1]["type"], "exit")
        self.assertEqual(events[-1]["exit_code"], 0)


class Files(unittest.TestCase):
    def test_files(self):
        sb = service["sb"]
        blob = bytes(range(256)) * 1000
        self.assertEqual(sb.write("/tmp/py/blob.bin", blob)["size"], len(blob))
        self.assertEqual(sb.read("/tmp/py/blob.bin"), blob)
        self.assertEqual(sb.stat("/tmp/py/blob.bin")["size"], len(blob))
        sb.mkdir("/tmp/py/sub")
        sb.rename("/tmp/py/blob.bin", "/tmp/py/sub/moved.bin")
        names = {e["name"] for e in sb.ls("/tmp/py", depth=2)}
        self.assertTrue({"sub", "sub/moved.bin"} <= names, names)
        sb.write("/tmp/py/text.txt", "héllo\n")
        self.assertEqual(sb.read("/tmp/py/text.txt"), "héllo\n".encode())
        sb.remove("/tmp/py", recursive=True)
        with self.assertRaises(cubicle.NotFound):
            sb.stat("/tmp/py")


class Models(unittest.TestCase):
    def test_display(self):
        d = service["sb"].recommended_display(model="claude-opus-5-5")
        self.assertEqual(d["recommended_display"], {"width": W, "height": H})
        self.assertEqual(d["tier"], "high-resolution")

    def test_vendors(self):
        sb = service["sb"]
        turn = {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "mouse_move", "toolset_name": "computer",
             "input": {"coordinate": [256, 192]}},
            {"type": "tool_use", "id": "t2", "name": "screenshot", "toolset_name": "computer",
             "input": {}}]}
        res = sb.anthropic(turn, toolset={"type": "computer_toolset_20260801"},
                           display=(512, 384))
        self.assertEqual([r["tool_use_id"] for r in res["content"]], ["t1", "t2"])
        # Pixel 256 of a 512-wide screen is the middle of its share of 1024: 513.
        self.assertEqual(sb.cursor(), (513, 385))
        call = {"type": "computer_call", "call_id": "c1", "actions": [{"type": "move", "x": 7, "y": 9}],
                "pending_safety_checks": [{"id": "sc1", "code": "sensitive_domain"}]}
        with self.assertRaises(cubicle.SafetyCheckPending) as e:
            sb.openai(call)
        self.assertEqual(e.exception.pending[0]["id"], "sc1")
        out = sb.openai(call, acknowledge=["sc1"])
        self.assertEqual(out["type"], "computer_call_output")
        self.assertEqual(out["acknowledged_safety_checks"][0]["id"], "sc1")
        self.assertEqual(sb.cursor(), (7, 9))
        ans = sb.gemini({"functionCall": {"name": "hover_at", "args": {"x": 500, "y": 500}}})
        self.assertEqual(ans["parts"][0]["functionResponse"]["name"], "hover_at")
        self.assertEqual(sb.cursor(), (1001 * W // 2000, 1001 * H // 2000))


class Examples(unittest.TestCase):
    """Each vendor's example loop, replaying its recorded model answers."""

    def run_example(self, vendor, word):
        sb = service["sb"]
        env = dict(os.environ, CUBICLE_URL=service["url"], CUBICLE_API_KEY=service["key"])
        ex = os.path.join(ROOT, "examples")
        done = subprocess.run([sys.executable, os.path.join(ex, f"{vendor}_loop.py"),
                               "--sandbox", sb.id, "--replay",
                               os.path.join(ex, "recorded", f"{vendor}.json")],
                              env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(guest_file(sb, f"/tmp/{vendor}-example", word), word + "\n")

    def test_anthropic(self):
        self.run_example("anthropic", "claude-was-here")

    def test_openai(self):
        self.run_example("openai", "openai-was-here")

    def test_gemini(self):
        self.run_example("gemini", "gemini-was-here")


if __name__ == "__main__":
    unittest.main()
