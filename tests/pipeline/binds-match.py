#!/usr/bin/env python3
# binds-match.py ROOT STATE_JSON: is every persistent path of the plan in
# state.json the same directory as its state dir (a bind of it)? Run inside
# the test's mount namespace. Prints the ones that are not.
import json
import os
import sys

root, state = sys.argv[1].rstrip("/"), json.load(open(sys.argv[2]))
binds = state["plan"]["binds"]["entries"]
bad = []
for b in binds:
    t, s = os.stat(root + b["path"]), os.stat(root + b["state"])
    if (t.st_dev, t.st_ino) != (s.st_dev, s.st_ino):
        bad.append(b["path"])
print("%d persistent paths, %d not bound: %s" % (len(binds), len(bad), " ".join(bad)))
sys.exit(1 if bad or not binds else 0)
