#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The layers of src/ (docs/ARCHITECTURE.md, "Layers"), checked from the
#include lines: a file may include headers of its own folder and of the
layers below it, never of a layer above or of a sibling at its level; and no
two modules (x.c with x.h) may include each other, directly or through
others. Prints each offending pair and exits 1; a TAP line per rule.

Usage: tests/layers.py [SRCDIR]   (default: the src/ next to this script)
"""
import os
import re
import sys

# Bottom up. Folders of one rank are siblings: neither includes the other.
RANKS = {"base": 0, "plan": 1, "tpm": 2, "sysext": 2, "boot": 3, "cli": 4}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    problems = {"folders": [], "direction": [], "cycles": []}
    headers, files = {}, []

    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path) and name.endswith((".c", ".h")):
            problems["folders"].append(f"src/{name}: not in a layer folder")
        if not os.path.isdir(path):
            continue
        if name not in RANKS:
            problems["folders"].append(f"src/{name}/: not a layer ({', '.join(RANKS)})")
            continue
        for f in sorted(os.listdir(path)):
            if f.endswith((".c", ".h")):
                files.append((name, f))
                if f.endswith(".h"):
                    if f in headers:
                        problems["folders"].append(f"{f}: in both src/{headers[f]}/ and src/{name}/")
                    headers[f] = name

    module = lambda layer, f: f"{layer}/{f.rsplit('.', 1)[0]}"
    edges = {}
    for layer, f in files:
        with open(os.path.join(src, layer, f), encoding="utf-8") as fh:
            text = fh.read()
        me = module(layer, f)
        edges.setdefault(me, {})
        for inc in INCLUDE.findall(text):
            base = os.path.basename(inc)
            if base not in headers:
                problems["folders"].append(f"src/{layer}/{f} includes \"{inc}\", which is no header of src/")
                continue
            to = headers[base]
            if to != layer and (RANKS[to] > RANKS[layer] or RANKS[to] == RANKS[layer]):
                why = "a layer above" if RANKS[to] > RANKS[layer] else "a sibling layer of"
                problems["direction"].append(f"src/{layer}/{f} includes src/{to}/{base}: {to} is {why} {layer}")
            other = module(to, base)
            if other != me:
                edges[me].setdefault(other, f"src/{layer}/{f} -> src/{to}/{base}")

    # Cycles between modules: Tarjan's strongly connected components.
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in comps:
        pairs = [edges[a][b] for a in comp for b in comp if b in edges.get(a, {})]
        problems["cycles"].append(f"include cycle between {', '.join(comp)}: " + "; ".join(pairs))

    failed = 0
    print(f"1..{len(problems)}")
    for i, (rule, found) in enumerate(problems.items(), 1):
        for p in found:
            print(f"# {p}")
        print(f"{'not ok' if found else 'ok'} {i} - {rule}: {len(found)} problem(s) in {len(files)} files")
        failed += bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
