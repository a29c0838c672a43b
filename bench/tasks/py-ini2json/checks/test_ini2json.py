import json
import subprocess
import sys

failures = 0


def convert(text):
    return subprocess.run(["python3", "/app/ini2json.py"], input=text, capture_output=True, text=True, timeout=20)


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


r = convert("[b]\nY = 2\n[a]\nx = 1\n")
want = {"a": {"x": "1"}, "b": {"y": "2"}}
check("sections and keys", r.returncode == 0 and json.loads(r.stdout or "null") == want, repr(r.stdout))
check("sorted and indented", r.stdout.strip() == json.dumps(want, indent=2, sort_keys=True), repr(r.stdout))
r = convert("[s]\nmulti = a b c\nempty =\n")
check("values as text", json.loads(r.stdout or "null") == {"s": {"empty": "", "multi": "a b c"}}, repr(r.stdout))
r = convert("orphan = 1\n[s]\nk = v\n")
check("a key outside a section is an error", r.returncode == 1 and r.stderr.startswith("error:"), f"exit {r.returncode}")
sys.exit(1 if failures else 0)
