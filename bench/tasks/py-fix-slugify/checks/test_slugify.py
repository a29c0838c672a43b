import sys

sys.path.insert(0, "/app")
from slugify import slugify  # noqa: E402

cases = {
    "Hello,  World!": "hello-world",
    "  --Crème Brûlée--  ": "creme-brulee",
    "": "",
    "A_B c": "a-b-c",
    "already-a-slug": "already-a-slug",
    "2024 Report (final)": "2024-report-final",
}
failures = 0
for text, want in cases.items():
    got = slugify(text)
    print(("PASS " if got == want else "FAIL ") + f"slugify({text!r}) == {want!r}" + ("" if got == want else f", got {got!r}"))
    failures += got != want
sys.exit(1 if failures else 0)
