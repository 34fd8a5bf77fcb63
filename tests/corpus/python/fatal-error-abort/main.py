import ctypes


def shutdown_hook():
    ctypes.pythonapi.Py_FatalError(b"cache index corrupted")


def main():
    shutdown_hook()


main()
