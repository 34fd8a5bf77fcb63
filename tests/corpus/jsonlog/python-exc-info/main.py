import json
import logging
import sys


class JsonFormatter(logging.Formatter):
    def format(self, record):
        doc = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": "billing",
        }
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(doc)


handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(JsonFormatter())
log = logging.getLogger("billing.charges")
log.addHandler(handler)
log.setLevel(logging.INFO)


class CardDeclined(Exception):
    pass


def charge(account, cents):
    if cents > 100:
        raise CardDeclined(f"card of account {account} declined for {cents} cents")
    return cents


def run():
    for account, cents in [(1, 40), (2, 250), (3, 60)]:
        try:
            charge(account, cents)
            log.info("charged account %d", account)
        except CardDeclined:
            log.exception("charge failed for account %d", account)
    log.info("batch done")


run()
