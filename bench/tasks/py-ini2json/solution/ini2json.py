import configparser
import json
import sys


def main():
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(sys.stdin.read())
    except configparser.Error as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    data = {section: dict(parser.items(section)) for section in parser.sections()}
    print(json.dumps(data, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
