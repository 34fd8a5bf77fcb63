import sys
import traceback


def load(path):
    with open(path) as f:
        return f.read()


def main():
    try:
        load("/nonexistent/settings.toml")
    except OSError:
        traceback.print_exc(file=sys.stdout)
        sys.exit(3)


main()
