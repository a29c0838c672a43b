import sys

sys.path.insert(0, "/app")
import roman  # noqa: E402

failures = 0


def check(name, ok):
    global failures
    print(("PASS " if ok else "FAIL ") + name)
    failures += 0 if ok else 1


def raises(f, *args):
    try:
        f(*args)
    except ValueError:
        return True
    except Exception:
        return False
    return False


check("to_roman(1994)", roman.to_roman(1994) == "MCMXCIV")
check("to_roman(4), (9), (40)", [roman.to_roman(n) for n in (4, 9, 40)] == ["IV", "IX", "XL"])
check("from_roman(MMXXIV)", roman.from_roman("MMXXIV") == 2024)
check("round trip 1..3999", all(roman.from_roman(roman.to_roman(n)) == n for n in range(1, 4000)))
check("to_roman(0) and (4000) raise", raises(roman.to_roman, 0) and raises(roman.to_roman, 4000))
check("invalid numerals raise", all(raises(roman.from_roman, s) for s in ("IIII", "VX", "", "abc", "MMMM", "IC")))
sys.exit(1 if failures else 0)
