"""Where a command spends its CPU: py-spy over the command and its forked workers, summarised.

    .venv/bin/python -m benchmarks.profile [--top 30] -- .venv/bin/dnsops plan --zone bench.test.

Samples every process of the command (``--subprocesses``), only while it runs on
a CPU (idle threads are not sampled), then prints each process's share and the
functions with the largest inclusive and self share of all samples. Without
py-spy (``pip install py-spy``, in the dev extras) it says so.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def summarise(raw: str, top: int = 30) -> str:
    """py-spy's ``--format raw`` (one ``frame;frame;... count`` line per stack) in words."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    processes: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        # a forked worker's stacks start with its parents' "process" frames: the last is its own
        owners = [f for f in frames if f.startswith("process ")]
        if owners:
            processes[owners[-1].split(":", 1)[0]] += n
        frames = [f for f in frames if not f.startswith("process ")]
        names = [_short(f) for f in frames if not f.startswith("thread ")]
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
    if not total:
        return "no samples\n"
    lines = [f"{total} samples"]
    lines += [f"{n / total:6.1%}  {p}" for p, n in processes.most_common()]
    lines.append(f"-- inclusive (top {top})")
    lines += [f"{n / total:6.1%}  {k}" for k, n in inclusive.most_common(top)]
    lines.append(f"-- self (top {top})")
    lines += [f"{n / total:6.1%}  {k}" for k, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py)``: lines apart, one function."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--rate", type=int, default=200, help="samples per second")
    ap.add_argument("--raw", type=Path, help="also keep py-spy's raw output here")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to profile after --")
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is missing: pip install py-spy (it is in the dev extras)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw or Path(tmp) / "profile.raw"
        argv = [spy, "record", "--subprocesses", "-r", str(args.rate), "-f", "raw"]
        argv += ["-o", str(raw), "--", *command]
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
        if not raw.exists():
            raise SystemExit(f"py-spy recorded nothing (exit {done.returncode})")
        print(summarise(raw.read_text(), args.top), end="")


if __name__ == "__main__":
    main()
