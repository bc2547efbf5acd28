"""PASS/FAIL lines and small helpers shared by the checks."""

import json
import time


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems, details=()):
        """problems: list of strings (empty: PASS); details: lines printed under the result."""
        if problems:
            self.failed += 1
            print(f"FAIL {name}: {problems[0]}", flush=True)
            for p in problems[1:12]:
                print(f"    - {p}", flush=True)
            if len(problems) > 12:
                print(f"    - … and {len(problems) - 12} more", flush=True)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        for d in details:
            print(f"    · {d}", flush=True)

    def summary(self):
        return f"release smoke: {self.passed} passed, {self.failed} failed"


def wait_until(predicate, seconds, step=0.2):
    end = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)


def items(answer):
    """The list inside an API answer: the body itself, or the first list among its values."""
    try:
        data = answer.json()
    except ValueError:
        return None
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("items", "handoffs", "tickets", "jobs", "alerts", "data", "results"):
            if isinstance(data.get(key), list):
                return data[key]
        for value in data.values():
            if isinstance(value, list):
                return value
    return None


def dump(obj):
    return json.dumps(obj, ensure_ascii=False)


def short(body, limit=200):
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return text if len(text) <= limit else text[:limit] + "…"
