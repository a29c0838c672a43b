import unicodedata


def slugify(text):
    """A URL slug: lower-case letters, digits and single dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = []
    for ch in ascii_text.lower():
        out.append(ch if ch.isalnum() else "-")
    return "".join(out)
