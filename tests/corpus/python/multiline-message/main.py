import sys


def validate(cfg):
    problems = [f"  {k}: must be an integer" for k, v in cfg.items() if not isinstance(v, int)]
    if problems:
        raise ValueError("invalid configuration:\n" + "\n".join(problems))


validate({"port": "80", "workers": 4, "timeout": "30s"})
