#!/usr/bin/python3
# svg-check.py STATE.json TIMELINE.svg: the SVG `usi-init status --svg` drew
# parses, and its bars follow the record: one per stage with the stage's
# start and end, one per volume step (found, unsealed, opened, mounted) from
# the timestamp before it, each placed on one linear time axis. Prints what
# does not hold; exit 1 then.
import json
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
STEPS = [("found", "found_at_ms"), ("unsealed", "unsealed_at_ms"),
         ("opened", "opened_at_ms"), ("mounted", "mounted_at_ms")]


def main(state_path, svg_path):
    state = json.load(open(state_path))
    root = ET.parse(svg_path).getroot()
    bad = []
    if root.tag != NS + "svg":
        bad.append(f"the root element is {root.tag}, not svg")
    t0, t1 = int(root.get("data-t0-ms")), int(root.get("data-t1-ms"))
    rects = [r for r in root.iter(NS + "rect") if r.get("class") in ("stage", "volume")]
    if t1 <= t0:
        bad.append(f"the time axis is empty: {t0}..{t1}")

    def x_of(t):
        return 170 + (t - t0) * 720 / (t1 - t0)

    want = []
    devices = next((s["start_ms"] for s in state["stages"] if s["name"] == "devices"), 0)
    for s in state["stages"]:
        want.append(("stage", s["name"], None, s["start_ms"], s["end_ms"]))
    for v in state["volumes"]:
        frm = devices
        for step, key in STEPS:
            if key in v:
                want.append(("volume", v["name"], step, frm, v[key]))
                frm = v[key]
    got = [(r.get("class"), r.get("data-name"), r.get("data-step"),
            int(r.get("data-start-ms")), int(r.get("data-end-ms"))) for r in rects]
    if got != want:
        bad.append(f"bars {got} are not the record's {want}")
    for r in rects:
        a, b = int(r.get("data-start-ms")), int(r.get("data-end-ms"))
        x, w = float(r.get("x")), float(r.get("width"))
        if abs(x - x_of(a)) > 0.01 or abs(w - max(1.0, x_of(b) - x_of(a))) > 0.02:
            bad.append(f"bar {r.get('data-name')} {r.get('data-step')}: x={x} width={w}, "
                       f"the axis puts {a}..{b} at x={x_of(a):.2f} width={x_of(b) - x_of(a):.2f}")
    lo = min([w[3] for w in want] + [t1])
    hi = max([w[4] for w in want] + [t0])
    if (lo, hi) != (t0, t1):
        bad.append(f"the axis {t0}..{t1} is not the record's span {lo}..{hi}")
    for line in bad:
        print(line)
    return 1 if bad else 0


sys.exit(main(sys.argv[1], sys.argv[2]))
