import ctypes
import threading
import time


def idle_worker():
    while True:
        time.sleep(0.05)


def parse_record(addr):
    return ctypes.string_at(addr)


def main():
    for i in range(2):
        threading.Thread(target=idle_worker, name=f"idle-{i}", daemon=True).start()
    time.sleep(0.2)
    parse_record(0)


main()
