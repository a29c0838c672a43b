def flatten(value, sep="."):
    out = {}

    def walk(prefix, item):
        if isinstance(item, dict) and item:
            children = item.items()
        elif isinstance(item, list) and item:
            children = ((str(i), v) for i, v in enumerate(item))
        else:
            out[prefix] = item
            return
        for key, child in children:
            walk(f"{prefix}{sep}{key}" if prefix else str(key), child)

    if isinstance(value, (dict, list)) and value:
        walk("", value)
    return out
