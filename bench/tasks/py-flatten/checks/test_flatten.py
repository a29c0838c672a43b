import sys

sys.path.insert(0, "/app")
from flatten import flatten  # noqa: E402

failures = 0


def check(name, got, want):
    global failures
    ok = got == want
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": got {got!r}, want {want!r}"))
    failures += 0 if ok else 1


check("example", flatten({"a": {"b": 1, "c": [2, {"d": 3}]}}), {"a.b": 1, "a.c.0": 2, "a.c.1.d": 3})
check("sep", flatten({"x": {"y": {"z": True}}}, sep="/"), {"x/y/z": True})
check("empty containers kept", flatten({"e": {}, "l": [], "n": None}), {"e": {}, "l": [], "n": None})
check("flat dict unchanged", flatten({"k": "v", "n": 1.5}), {"k": "v", "n": 1.5})
check("top-level list", flatten([1, [2, 3]]), {"0": 1, "1.0": 2, "1.1": 3})
sys.exit(1 if failures else 0)
