import re
import sys
from collections import Counter


def main(argv):
    top = 3
    if "--top" in argv:
        i = argv.index("--top")
        try:
            top = int(argv[i + 1])
        except (IndexError, ValueError):
            top = 0
        if top <= 0:
            print("error: --top takes a whole number > 0", file=sys.stderr)
            return 2
    words = re.findall(r"[a-z']+", sys.stdin.read().lower())
    counts = Counter(w for w in words if w.strip("'"))
    for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        print(f"{word} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
