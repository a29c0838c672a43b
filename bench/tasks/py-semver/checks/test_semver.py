import sys

sys.path.insert(0, "/app")
from semver import sort_versions  # noqa: E402

failures = 0


def check(name, got, want):
    global failures
    ok = got == want
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": got {got!r}"))
    failures += 0 if ok else 1


check("example", sort_versions(["1.0.0", "1.0.0-alpha", "0.9.10", "0.9.9", "1.0.0-alpha.1"]),
      ["0.9.9", "0.9.10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0"])
spec = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
check("the SemVer spec's own order", sort_versions(list(reversed(spec))), spec)
check("build metadata ignored", sort_versions(["1.0.1+b", "1.0.0+z"]), ["1.0.0+z", "1.0.1+b"])
try:
    sort_versions(["1.0", "1.0.0"])
    check("invalid raises ValueError", "no error", "ValueError")
except ValueError:
    check("invalid raises ValueError", True, True)
sys.exit(1 if failures else 0)
