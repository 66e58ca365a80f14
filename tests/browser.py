"""What a reviewer sees of an HTML page accelgit wrote, in real headless
Chromium: a screenshot (decoded here, no imaging library) and measurements
of the laid-out page (a copy of the page with a small script that writes
them into the DOM, read back with ``--dump-dom``)."""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

MEASURE = """<script>
(function () {
  const box = r => [r.left, r.top, r.right, r.bottom];
  const de = document.documentElement;
  const out = {width: innerWidth, scrollWidth: de.scrollWidth, nodes: [], texts: [], edges: [], graphs: []};
  for (const g of document.querySelectorAll(".graph")) out.graphs.push([g.scrollWidth, g.clientWidth]);
  for (const g of document.querySelectorAll("svg g.node")) {
    const rect = g.querySelector("rect");
    out.nodes.push({box: box(rect.getBoundingClientRect()), fill: rect.getAttribute("fill"),
                    texts: [...g.querySelectorAll("text")].map(t => box(t.getBoundingClientRect()))});
  }
  for (const t of document.querySelectorAll("svg text")) {
    const svg = t.ownerSVGElement, scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    out.texts.push({px: parseFloat(getComputedStyle(t).fontSize) * scale, text: t.textContent});
  }
  for (const p of document.querySelectorAll("svg > path")) {
    const n = p.getTotalLength(), pts = [];
    for (let i = 0; i <= 80; i++) {
      const q = p.getPointAtLength(n * i / 80).matrixTransform(p.getScreenCTM());
      pts.push([q.x, q.y]);
    }
    out.edges.push(pts);
  }
  out.bodyPx = parseFloat(getComputedStyle(document.body).fontSize);
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def chromium() -> str:
    """The chromium command; skipped where it is missing, failed in CI (.ci/run installs it)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it with apt-get)")
        pytest.skip("chromium is not installed")
    return exe


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--force-device-scale-factor=1", f"--user-data-dir={tmp / 'chromium-profile'}",
                           "--disable-background-networking", "--no-first-run", *args],
                          capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc


def screenshot(page: Path, tmp: Path, width: int, height: int) -> tuple[int, int, list]:
    """``(width, height, rows of (r, g, b) pixels)`` of ``page`` in a window of that size."""
    shot = tmp / (page.stem + ".png")
    _run([f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri()], tmp)
    data = shot.read_bytes()
    try:
        Path("/tmp", f"accelgit-{page.stem}-screenshot.png").write_bytes(data)      # for a human to look at
    except OSError:
        pass
    return decode_png(data)


def measure(page: Path, tmp: Path, width: int, height: int) -> dict:
    """The layout of ``page`` in a window of that size (see MEASURE)."""
    copy = tmp / (page.stem + "-measured.html")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    out = _run(["--dump-dom", f"--window-size={width},{height}", copy.as_uri()], tmp).stdout.decode()
    m = re.search(r'<pre id="measured">(.*?)</pre>', out, re.S)
    assert m, out[-2000:]
    return json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&amp;", "&"))


def decode_png(data: bytes) -> tuple[int, int, list]:
    """An 8-bit RGB or RGBA PNG, as rows of (r, g, b)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    raw, stride, prev, rows = zlib.decompress(idat), width * bpp, bytearray(width * bpp), []
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def check_page(page: Path, tmp: Path, width: int = 1400, height: int = 1000) -> dict:
    """What a reviewer must see at ``width`` px: a page that is not blank, no
    horizontal scrollbar, every box of the graph inside the window, its text
    legible and inside its box, boxes not overlapping, no arrow under a box,
    and the boxes' colours really on screen.  Returns the measurements."""
    m = measure(page, tmp, width, height)
    assert m["nodes"], "no graph drawn"
    assert m["scrollWidth"] <= m["width"], f"the page scrolls sideways: {m['scrollWidth']} > {m['width']}"
    for sw, cw in m["graphs"]:
        assert sw <= cw, f"the graph scrolls sideways: {sw} > {cw}"
    assert m["bodyPx"] >= 13
    for t in m["texts"]:
        assert t["px"] >= 10.5, f"illegible: {t}"
    boxes = [n["box"] for n in m["nodes"]]
    for n in m["nodes"]:
        x1, y1, x2, y2 = n["box"]
        assert 0 <= x1 and x2 <= width and 0 <= y1 and y2 <= height, f"box outside the window: {n['box']}"
        for tx1, ty1, tx2, ty2 in n["texts"]:
            assert x1 <= tx1 and tx2 <= x2 and y1 <= ty1 and ty2 <= y2, f"text outside its box: {n}"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], f"boxes overlap: {a} {b}"
    for pts in m["edges"]:
        for x, y in pts:
            for x1, y1, x2, y2 in boxes:
                assert not (x1 + 2 < x < x2 - 2 and y1 + 2 < y < y2 - 2), f"an arrow runs under a box at {x, y}"
    w, h, rows = screenshot(page, tmp, width, height)
    assert (w, h) == (width, height)
    colours = {p for row in rows[::7] for p in row[::7]}
    assert len(colours) > 20, "the screenshot is (nearly) blank"
    for n in m["nodes"]:
        x1, y1, _, _ = n["box"]
        want = tuple(int(n["fill"][k:k + 2], 16) for k in (1, 3, 5))
        got = rows[int(y1) + 6][int(x1) + 6]
        assert all(abs(a - b) <= 3 for a, b in zip(got, want)), f"box at {n['box']} is {got} on screen, not {want}"
    return m
