"""Helpers shared by the golden generators and the interop checks under Scripts/."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")


def write_compact(dest, obj, summary):
    """Writes `obj` as one line of compact UTF-8 JSON (goldens are data, not for reading)."""
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {dest}: {summary}")


class Checks:
    """Counts passed and failed checks, printing each failure."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def report(self, what):
        print(f"{what}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
