# SPDX-License-Identifier: MIT
"""Shared by the tokenizer tests: run $ROSENBLATT_BUILD/tests/tokenizer_dump
over a list of requests ("enc MODE HEX", "dec IDS", "stream IDS")."""
import subprocess


def run_dump(dump, vocab, reqs):
    """One output line per request, or None after printing a failing TAP plan."""
    p = subprocess.run([dump, vocab], input="\n".join(reqs) + "\n",
                       capture_output=True, text=True)
    out = p.stdout.split("\n")
    if p.returncode != 0 or len(out) < len(reqs):
        print("1..1")
        print("not ok 1 - tokenizer_dump failed (rc %d): %s" % (p.returncode, p.stderr.strip()[:500]))
        return None
    return out
