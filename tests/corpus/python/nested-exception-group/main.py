def check_host(h):
    if not h:
        raise ValueError("empty host")


def check_port(p):
    if p > 65535:
        raise OverflowError(f"port {p} out of range")


def validate(cfg):
    errors = []
    for h in cfg["hosts"]:
        try:
            check_host(h)
        except ValueError as e:
            errors.append(e)
    port_errors = []
    for p in cfg["ports"]:
        try:
            check_port(p)
        except OverflowError as e:
            port_errors.append(e)
    errors.append(ExceptionGroup("ports", port_errors))
    errors.append(KeyError("tls"))
    raise ExceptionGroup("config invalid", errors)


validate({"hosts": [""], "ports": [70000, 80000]})
