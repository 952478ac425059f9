"""Runs one regex over many texts in a process of its own (see ``scorers.py``).

Started as a script (``python -I -S regex_worker.py``) with ``{"pattern", "flags",
"texts"}`` as JSON on stdin; writes a list of ``[matched, first match]`` as JSON. The
server kills it when it runs past its time limit, so that a catastrophic pattern costs a
bounded time and no server thread.
"""

import json
import re
import sys


def main() -> None:
    job = json.load(sys.stdin)
    flags = 0
    for letter, flag in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)):
        if letter in job["flags"]:
            flags |= flag
    pattern = re.compile(job["pattern"], flags)
    found = []
    for text in job["texts"]:
        match = pattern.search(text)
        found.append([match is not None, match.group(0)[:200] if match else None])
    json.dump(found, sys.stdout)


if __name__ == "__main__":
    main()
