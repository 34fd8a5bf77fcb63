import threading
import time


def worker(n):
    time.sleep(0.01)
    return [1, 2, 3][n]


t = threading.Thread(target=worker, args=(7,))
t.start()
t.join()
print("main finished")
