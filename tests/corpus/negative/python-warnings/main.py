import logging
import sys
import warnings

logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("sync")


def fetch(n):
    warnings.warn("fetch() without a timeout is deprecated", DeprecationWarning, stacklevel=2)
    warnings.warn(f"slow response for item {n}", UserWarning)
    return n


for i in range(2):
    fetch(i)
log.warning("Traceback (most recent call last): logging of tracebacks is off")
log.error("Exception in thread pool: none, all 4 workers healthy")
print("KeyError: this line is data, not an exception")
print('  File "report.csv", line 3 has 2 columns')
sys.exit(0)
