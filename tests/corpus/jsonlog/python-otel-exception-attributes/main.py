import json
import sys
import time
import traceback


def emit(severity, body, attributes=None):
    record = {
        "timestamp": int(time.time() * 1e9),
        "severity_text": severity,
        "body": body,
        "resource": {"service.name": "inventory"},
        "attributes": attributes or {},
    }
    print(json.dumps(record), flush=True)


def reserve(stock, sku, n):
    if stock[sku] < n:
        raise ValueError(f"only {stock[sku]} of {sku} left, {n} requested")
    stock[sku] -= n


stock = {"A-1": 3}
emit("INFO", "reserving")
try:
    reserve(stock, "A-1", 5)
except ValueError as e:
    emit("ERROR", "reservation failed", {
        "exception.type": type(e).__name__,
        "exception.message": str(e),
        "exception.stacktrace": traceback.format_exc(),
    })
sys.exit(3)
