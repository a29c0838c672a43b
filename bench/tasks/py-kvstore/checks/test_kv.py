import sys
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:8080"
failures = 0


def call(method, path, body=None):
    req = urllib.request.Request(BASE + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


check("health", call("GET", "/health") == (200, "ok"), call("GET", "/health"))
check("unknown key is 404", call("GET", "/kv/nothing-here")[0] == 404)
check("PUT answers 204", call("PUT", "/kv/greeting", b"hello")[0] == 204)
check("GET returns the value", call("GET", "/kv/greeting") == (200, "hello"), call("GET", "/kv/greeting"))
check("PUT replaces", call("PUT", "/kv/greeting", b"bonjour")[0] == 204 and call("GET", "/kv/greeting")[1] == "bonjour")
check("DELETE answers 204", call("DELETE", "/kv/greeting")[0] == 204)
check("deleted key is 404", call("GET", "/kv/greeting")[0] == 404)
check("DELETE unknown is 404", call("DELETE", "/kv/greeting")[0] == 404)
sys.exit(1 if failures else 0)
