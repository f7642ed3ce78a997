#!/usr/bin/env python3
"""Checks the built book as a reader would see it.

1. Every relative link and image resolves, #fragments included. (External
   links are not checked: CI has no internet.)
2. No chapter has an unprocessed `{{#...}}` directive (a missing preprocessor)
   or an empty code block (mdBook 0.5 renders a mistyped include as one,
   silently).
3. Headless Chromium opens one chapter, runs its JavaScript (the quizzes are
   rendered by it) and takes a screenshot; the screenshot must not be blank,
   and the rendered page must show the chapter's title and its quiz.

Usage: check_book.py BOOK_HTML_DIR CHAPTER_HTML SCREENSHOT_PNG
"""
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

SKIP = {"print.html", "404.html", "toc.html"}


def fail(message):
    print(f"book check FAILED: {message}")
    sys.exit(1)


def check_html(book):
    pages = [p for p in sorted(book.glob("*.html")) if p.name not in SKIP]
    if not pages:
        fail(f"no chapters in {book}")
    for page in pages:
        html = page.read_text(encoding="utf-8")
        left = re.findall(r"\{\{#(?:include|quiz|rustdoc_include)[^}]*\}\}", html)
        if left:
            fail(f"{page.name} has unprocessed directives: {left[:3]}")
        empty = re.findall(r'<code class="language-[^"]*">\s*</code>', html)
        if empty:
            fail(f"{page.name} has {len(empty)} empty code block(s): an include that matched nothing")
    print(f"ok: {len(pages)} pages, no raw directives, no empty code blocks")


def check_links(book):
    """Every relative link and image resolves, fragments included."""
    ids = {}
    pages = sorted(book.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        ids[page.resolve()] = set(re.findall(r'\bid="([^"]+)"', html))
    broken = []
    checked = 0
    for page in pages:
        if page.name in SKIP:
            continue
        html = page.read_text(encoding="utf-8")
        for target in re.findall(r'(?:href|src)="([^"]+)"', html):
            if re.match(r"^(?:[a-z]+:|//)", target):
                continue  # external: no internet here, and not ours to keep alive
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve() if path else page.resolve()
            checked += 1
            if not file.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif fragment and file.suffix == ".html" and fragment not in ids.get(file, set()):
                broken.append(f"{page.name}: {target} (no element with id {fragment!r})")
    if broken:
        fail("broken links:\n  " + "\n  ".join(broken[:20]))
    print(f"ok: {checked} relative links and images resolve")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    fail("headless Chromium is not installed (apt-get install chromium)")


def browse(page, shot):
    browser = chromium()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu",
              "--hide-scrollbars", "--virtual-time-budget=8000"]
    url = page.resolve().as_uri()
    subprocess.run(common + [f"--screenshot={shot}", "--window-size=1000,1400", url],
                   check=True, capture_output=True, timeout=120)
    dom = subprocess.run(common + ["--dump-dom", url], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return dom


def png_pixels(path):
    """Decodes an 8-bit RGB or RGBA PNG into rows of bytes (no dependencies)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                fail(f"unexpected PNG format (depth {depth}, colour type {colour})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def ink_fraction(path):
    """The share of pixels that differ from the page's background colour."""
    width, height, channels, rows = png_pixels(path)
    counts = {}
    for row in rows[::4]:
        for x in range(0, width * channels, channels * 4):
            pixel = row[x:x + 3]
            counts[pixel] = counts.get(pixel, 0) + 1
    total = sum(counts.values())
    background = max(counts.values())
    return (total - background) / total


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    book, chapter, shot = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    check_html(book)
    check_links(book)
    dom = browse(chapter, shot)
    html = chapter.read_text(encoding="utf-8")
    main_part = html[html.find("<main"):] if "<main" in html else html
    title = re.search(r"<h1[^>]*>(.*?)</h1>", main_part, re.S)
    if not title:
        fail(f"{chapter.name} has no <h1>")
    heading = re.sub(r"<[^>]+>", "", title.group(1)).strip()
    if heading not in re.sub(r"<[^>]+>", "", dom):
        fail(f"the rendered page does not show its title {heading!r}")
    quizzes = html.count('class="quiz-placeholder"')
    rendered = dom.count('class="mdbook-quiz"')
    if rendered < quizzes:
        fail(f"{quizzes - rendered} of the chapter's {quizzes} quiz(zes) did not render "
             "(mdbook-quiz's script did not run)")
    ink = ink_fraction(shot)
    if ink < 0.02:
        fail(f"the screenshot {shot} is blank ({ink:.1%} of it is not background)")
    print(f"ok: Chromium rendered {chapter.name}: title {heading!r}, {rendered} quiz(zes), "
          f"{ink:.1%} of the screenshot is ink ({shot})")


if __name__ == "__main__":
    main()
