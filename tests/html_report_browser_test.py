#!/usr/bin/env python3
"""arc-solve --html in a real browser (ctest html_report_browser_test, label report).

arc-solve solves three small tasks with the embedded model at the default experts (program search,
then TTT where no program explains the task): flip (the search explains it, right), flip_wrong (the
same demonstrations, but its expected output differs from the flip in one cell, so the search's
answer is wrong by exactly that cell) and noise (no program explains it, so TTT runs a few steps
and the page draws its loss curve). Headless Chromium then renders the page:

  * a screenshot at 1200x900: the PNG must have that size and be no blank page: many colours,
    among them the ARC palette's (the demonstration grids at the top of the page);
  * the DOM after rendering (--dump-dom): the sections and their verdicts, the summary links, the
    grids by role, a candidate's cells, the program text, the wrong cell with the colour it should
    have, the loss curve.

Exit 0 when every check passes, 1 on the first failure (with what was expected and found), 77
(ctest's skip) when no Chromium is installed (scripts/setup.sh installs Debian's `chromium`).
Standard library only: the PNG is decoded with zlib and struct.
"""
import argparse
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ARC_PALETTE = [(0x00, 0x00, 0x00), (0x00, 0x74, 0xD9), (0xFF, 0x41, 0x36), (0x2E, 0xCC, 0x40),
               (0xFF, 0xDC, 0x00), (0xAA, 0xAA, 0xAA), (0xF0, 0x12, 0xBE), (0xFF, 0x85, 0x1B),
               (0x7F, 0xDB, 0xFF), (0x87, 0x0C, 0x25)]
WIDTH, HEIGHT = 1200, 900


class CheckFailed(Exception):
    pass


def check(cond, what, detail=""):
    """Passes `what` or fails with it and `detail` (what was found)."""
    if not cond:
        raise CheckFailed(f"{what}: {detail}" if detail else what)
    print(f"ok: {what}")


def write_tasks(src, tasks_dir):
    os.makedirs(tasks_dir, exist_ok=True)
    with open(os.path.join(src, "examples", "flip.json")) as f:
        flip = json.load(f)
    wrong = json.loads(json.dumps(flip))
    # The flip of the test input ends in [0, 0, 2]; this task expects a 4 in that last cell.
    wrong["test"][0]["output"][2][2] = 4
    noise = {
        "train": [{"input": [[1, 2], [3, 4]], "output": [[5]]},
                  {"input": [[2, 2], [1, 1]], "output": [[7, 7]]},
                  {"input": [[3, 1], [4, 4]], "output": [[8], [8]]}],
        "test": [{"input": [[4, 3], [2, 1]], "output": [[6, 9]]}],
    }
    for name, task in (("flip", flip), ("flip_wrong", wrong), ("noise", noise)):
        with open(os.path.join(tasks_dir, name + ".json"), "w") as f:
            json.dump(task, f)


def run(cmd, timeout):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    return r


def chromium_cmd(chromium, profile):
    # A private profile per run: ctest may run this beside other Chromium users.
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}"]


# --- PNG ------------------------------------------------------------------------------------------

def decode_png(data):
    """(width, height, set of (r, g, b) colours) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckFailed("the screenshot is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace != 0:
        raise CheckFailed(f"unsupported PNG: depth {depth}, colour type {colour_type}, "
                          f"interlace {interlace}")
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    colours, prev = set(), bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        for x in range(0, stride, bpp):
            colours.add((line[x], line[x + 1], line[x + 2]))
        prev = line
    return width, height, colours


# --- DOM ------------------------------------------------------------------------------------------

class Dom(html.parser.HTMLParser):
    """Every element as (tag, attrs, text inside), plus the cells of each grid table."""

    def __init__(self):
        super().__init__()
        self.elements, self.stack, self.grids = [], [], []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag == "table" and "grid" in el["attrs"].get("class", "").split():
            el["cells"] = []
            self.grids.append(el)
        if tag == "tr" and self.grids and self.in_open("table", self.grids[-1]):
            self.grids[-1]["cells"].append([])
        if tag == "td" and self.grids and self.in_open("table", self.grids[-1]):
            self.grids[-1]["cells"][-1].append(el["attrs"])
        if tag not in ("br", "input", "meta", "polyline", "line", "circle"):
            self.stack.append(el)

    def in_open(self, tag, el):
        return any(e is el for e in self.stack)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, tag=None, **attrs):
        out = []
        for el in self.elements:
            if tag and el["tag"] != tag:
                continue
            if all(el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(el)
        return out


def section_dom(dom, task):
    """The elements inside the section of `task` (by document order)."""
    start = None
    for i, el in enumerate(dom.elements):
        if el["tag"] == "section":
            if start is not None:
                return dom.elements[start:i]
            if el["attrs"].get("data-task") == task:
                start = i
    return dom.elements[start:] if start is not None else []


def grids_in(elements, **attrs):
    return [el for el in elements if "cells" in el
            and all(el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]


def values(grid):
    return [[int(td["data-c"]) for td in row] for row in grid["cells"]]


# --- the test -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arc-solve", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True, help="folder for the tasks, report, page and screenshot")
    ap.add_argument("--chromium", default="")
    args = ap.parse_args()

    chromium = args.chromium if args.chromium and os.path.exists(args.chromium) else None
    chromium = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("skip: no chromium (scripts/setup.sh installs it)")
        return 77

    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    tasks_dir = os.path.join(out, "tasks")
    write_tasks(args.source, tasks_dir)
    page, report = os.path.join(out, "report.html"), os.path.join(out, "report.json")
    shot = os.path.join(out, "screenshot.png")

    # TTT kept to a few steps and views so that the whole test stays within seconds.
    r = run([args.arc_solve, "--model", os.path.join(args.source, "models", "default"),
             "--tasks", tasks_dir, "--threads", "1", "--html", page, "--report", report,
             "--search_work", "20", "--ttt_max_samples", "8", "--ttt_max_steps", "6",
             "--views_permutations", "0", "--views_transforms", "none"], timeout=120)
    print(r.stdout)
    check(r.returncode == 0, "arc-solve ran", f"rc {r.returncode}: {r.stderr}")
    check(f"html: {page}" in r.stdout, "arc-solve names the page it wrote")
    check(os.path.getsize(page) > 0, f"the page is written ({os.path.getsize(page)} bytes)")
    with open(page) as f:
        text = f.read()
    for banned in ("<script", "<link", "src=", "http://", "https://", "@import"):
        check(banned not in text, f"self-contained: no {banned!r}")

    with tempfile.TemporaryDirectory() as profile:
        r = run(chromium_cmd(chromium, profile) + [f"--screenshot={shot}", "file://" + page],
                timeout=60)
        check(r.returncode == 0 and os.path.exists(shot), "chromium wrote a screenshot",
              f"rc {r.returncode}: {r.stderr[-800:]}")
    with open(shot, "rb") as f:
        png = f.read()
    width, height, colours = decode_png(png)
    print(f"screenshot {shot}: {len(png)} bytes, {width}x{height}, {len(colours)} colours")
    check((width, height) == (WIDTH, HEIGHT), f"the screenshot is {WIDTH}x{HEIGHT} (got {width}x{height})")
    check(len(colours) > 20, f"the screenshot is not blank ({len(colours)} colours)")
    palette = [c for c in ARC_PALETTE if c in colours]
    check(len(palette) >= 6, f"the screenshot shows the ARC palette ({len(palette)} of its colours)")

    with tempfile.TemporaryDirectory() as profile:
        r = run(chromium_cmd(chromium, profile) + ["--dump-dom", "file://" + page], timeout=60)
    check(r.returncode == 0 and "</html>" in r.stdout, "chromium dumped the DOM",
          f"rc {r.returncode}: {r.stderr[-800:]}")
    with open(os.path.join(out, "dom.html"), "w") as f:
        f.write(r.stdout)
    dom = Dom()
    dom.feed(r.stdout)

    sections = dom.find("section")
    check([s["attrs"].get("data-task") for s in sections] == ["flip", "flip_wrong", "noise"],
          "one section per task, in order")
    verdict = {s["attrs"]["data-task"]: s["attrs"].get("data-correct") for s in sections}
    check(verdict["flip"] == "true" and verdict["flip_wrong"] == "false",
          f"flip is right and flip_wrong wrong ({verdict})")
    links = [a["attrs"].get("href") for a in dom.find("a")]
    check(links == ["#" + s["attrs"]["id"] for s in sections], f"the summary links each section ({links})")
    rows = [tr for tr in dom.find("tr") if "data-task" in tr["attrs"]]
    check(len(rows) == 3, f"the summary has a row per task ({len(rows)})")

    flip = section_dom(dom, "flip")
    check(len(grids_in(flip, data_role="train-input")) == 3, "flip shows its 3 demonstration inputs")
    check(len(grids_in(flip, data_role="train-output")) == 3, "and their outputs")
    check(values(grids_in(flip, data_role="test-input")[0]) == [[3, 0, 0], [0, 1, 1], [2, 0, 0]],
          "flip's test input, cell by cell")
    best = grids_in(flip, data_role="candidate", data_rank="1")
    check(len(best) == 1, "flip has a first candidate grid")
    check(values(best[0]) == [[0, 0, 3], [1, 1, 0], [0, 0, 2]], "flip's answer, cell by cell")
    check(best[0]["attrs"].get("data-expert") == "search" and best[0]["attrs"].get("data-correct") == "true",
          f"flip's answer is the search's and right ({best[0]['attrs']})")
    programs = [el["text"] for el in flip if el["tag"] == "code" and el["attrs"].get("class") == "program"]
    check(programs and programs[0].strip(), f"flip's program text is shown ({programs[:1]})")
    marks = [el for el in flip if el["tag"] == "span" and el["attrs"].get("class") == "mark"]
    check(any(m["attrs"].get("data-correct") == "true" for m in marks), "flip has a right-mark")

    wrong = section_dom(dom, "flip_wrong")
    cand = grids_in(wrong, data_role="candidate", data_rank="1")
    check(len(cand) == 1 and cand[0]["attrs"].get("data-correct") == "false",
          "flip_wrong's first candidate is marked wrong")
    check(cand[0]["attrs"].get("data-diff") == "1", f"by one cell ({cand[0]['attrs'].get('data-diff')})")
    diff = [(r, c, td) for r, row in enumerate(cand[0]["cells"]) for c, td in enumerate(row)
            if "diff" in td.get("class", "")]
    check(len(diff) == 1 and diff[0][:2] == (2, 2) and diff[0][2]["data-c"] == "2"
          and diff[0][2]["data-want"] == "4", f"the wrong cell is (2, 2): 2, expected 4 ({diff})")
    check(any(el["tag"] == "span" and el["attrs"].get("data-correct") == "false" for el in wrong),
          "flip_wrong has a wrong-mark")
    check(values(grids_in(wrong, data_role="expected")[0])[2] == [0, 0, 4], "the expected output is shown")

    noise = section_dom(dom, "noise")
    svgs = [el for el in noise if el["tag"] == "svg"]
    check(len(svgs) == 1 and int(svgs[0]["attrs"].get("data-steps", "0")) >= 1,
          f"noise has its TTT loss curve ({[s['attrs'] for s in svgs]})")
    with open(report) as f:
        entry = json.load(f)["tasks"][2]
    steps = len(entry["ttt"]["losses"])
    check(steps == entry["ttt"]["steps"] == int(svgs[0]["attrs"]["data-steps"]),
          f"the curve has a point per optimizer step ({steps})")
    print(f"all checks passed; page {page} ({os.path.getsize(page)} bytes), screenshot {shot}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print(f"FAILED: {e}")
        sys.exit(1)
