import subprocess
import sys

failures = 0


def rpn(expr):
    return subprocess.run(["python3", "/app/rpn.py", expr], capture_output=True, text=True, timeout=20)


for expr, want in [("3 4 + 2 *", "14"), ("1 2 /", "0.5"), ("-3 2 *", "-6"), ("2.5 2 *", "5"), ("10 4 -", "6")]:
    r = rpn(expr)
    ok = r.returncode == 0 and r.stdout.strip() == want
    print(("PASS " if ok else "FAIL ") + f"{expr!r} -> {want}" + ("" if ok else f", got {r.stdout.strip()!r} (exit {r.returncode})"))
    failures += not ok
for expr in ["1 0 /", "1 +", "1 2", "2 x *"]:
    r = rpn(expr)
    ok = r.returncode == 1 and r.stderr.startswith("error:")
    print(("PASS " if ok else "FAIL ") + f"{expr!r} is an error" + ("" if ok else f", got exit {r.returncode}"))
    failures += not ok
sys.exit(1 if failures else 0)
