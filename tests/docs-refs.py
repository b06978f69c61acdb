#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every test docs/SECURITY.md and the README's claim tables name exists:
each backquoted `tests/...` path is a file of the tree, each e2e scenario
named (`e2e NAME`, `e2e \`A\`, \`B\``) is one tests/e2e/run knows. A claim
that cites a test which is gone is a claim without proof. TAP, one line per
document."""
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
scenarios = set()
for f in os.listdir(os.path.join(top, "tests/e2e/scenarios")):
    m = re.match(r"^\d+-(.+)\.sh$", f)
    if m:
        scenarios.add(m.group(1))

docs = ["docs/SECURITY.md", "README.md"]
print(f"1..{len(docs)}")
failed = False
for n, doc in enumerate(docs, 1):
    text = open(os.path.join(top, doc), encoding="utf-8").read()
    bad = []
    for path in re.findall(r"`(tests/[^`\s]+)`", text):
        if re.search(r"/[A-Z]+/", path):
            continue                            # a pattern, such as tests/unit/LAYER/
        if not os.path.exists(os.path.join(top, path.split(" ")[0])):
            bad.append(f"no file {path}")
    # "e2e `a`, `b`, `c`" and "e2e `a`": the names after the word e2e.
    for m in re.finditer(r"e2e ((?:`[a-z0-9-]+`(?:, | and | or )?)+)", text):
        for name in re.findall(r"`([a-z0-9-]+)`", m.group(1)):
            if name not in scenarios:
                bad.append(f"no e2e scenario {name}")
    for b in bad:
        print(f"# {doc}: {b}")
    failed = failed or bool(bad)
    print(f"{'not ok' if bad else 'ok'} {n} - {doc}: every test it names exists ({len(bad)} missing)")
sys.exit(1 if failed else 0)
