import subprocess
import sys

failures = 0


def run(text, *args):
    return subprocess.run(
        ["python3", "/app/wordfreq.py", *args], input=text, capture_output=True, text=True, timeout=20
    )


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


r = run("the cat and the hat and the bat")
check("top 3 by count, ties alphabetical", r.stdout.split("\n")[:3] == ["the 3", "and 2", "bat 1"], repr(r.stdout))
r = run("Don't stop; don't STOP. Go!", "--top", "2")
check("case and apostrophes", r.stdout.split() == ["don't", "2", "stop", "2"], repr(r.stdout))
r = run("a b c d e f", "--top", "5")
check("--top 5", len(r.stdout.strip().split("\n")) == 5, repr(r.stdout))
r = run("x y", "--top", "0")
check("--top 0 exits 2", r.returncode == 2 and "error" in r.stderr, f"exit {r.returncode}, stderr {r.stderr!r}")
r = run("", "--top", "3")
check("empty input prints nothing", r.returncode == 0 and r.stdout.strip() == "", repr(r.stdout))
sys.exit(1 if failures else 0)
