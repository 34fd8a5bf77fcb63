import logging
import sys
import traceback

logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                    format="%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
log = logging.getLogger("jobs")


def parse(line):
    return int(line.split("=")[1])


def run(lines):
    total = 0
    for line in lines:
        try:
            total += parse(line)
        except Exception:
            # Every line of the trace goes through the logger, so each one has the prefix.
            for text in traceback.format_exc().rstrip("\n").split("\n"):
                log.error(text)
    return total


log.info("starting")
log.info("total %d", run(["a=1", "b=x", "c=3"]))
log.info("done")
