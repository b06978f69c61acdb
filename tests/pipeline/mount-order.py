#!/usr/bin/env python3
# mount-order.py ROOT STATE_JSON: do the mounts under ROOT in
# /proc/self/mountinfo (read by this process, so run it inside the test's
# mount namespace) follow the plan in state.json, in order? The API file
# systems of the early stage come first; then every mount, tmpfs, overlay and
# bind action of the plan, exactly once each. Prints both lists on mismatch.
import json
import sys

root, state = sys.argv[1].rstrip("/"), json.load(open(sys.argv[2]))
plan = state["plan"]
api = ["/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/run", "/tmp"]
mounts = {v["name"]: v["mount"] for v in plan["volumes"] if v.get("mount")}
expected = list(api)
for a in plan["actions"]:
    if a["action"] == "mount" and a["subject"] in mounts:
        expected.append(mounts[a["subject"]])
    elif a["action"] in ("tmpfs", "overlay", "bind"):
        expected.append(a["subject"])

def unescape(p):
    return p.encode().decode("unicode_escape") if "\\" in p else p

seen = []
for line in open("/proc/self/mountinfo"):
    target = unescape(line.split()[4])
    if target == root or target.startswith(root + "/"):
        seen.append(target[len(root):] or "/")

if seen != expected:
    print("expected:", expected)
    print("mounted: ", seen)
    sys.exit(1)
