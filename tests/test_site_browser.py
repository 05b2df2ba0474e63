"""The built site as a learner sees it: the book is built with mkdocs, served on localhost and
opened in headless Chromium. Every course page must show every picture it names (loaded,
whole in the text column, a link to itself at full size), and every `.cat` block highlighted
by catdsl's own lexer (the spans carry the token classes that lexer gives that block); a
page's screenshot is a page with its header and text drawn, not a blank one.

Skipped where Chromium is not installed; CI installs it (`make chromium`).
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import REPO
from PIL import Image
from pygments import lex
from pygments.token import STANDARD_TYPES, Whitespace

from catdsl.frontend.lexer import CatLexer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (CI installs it: `make chromium`)"
)

COURSE = sorted((REPO / "docs" / "course").glob("*.md"))
FENCE = re.compile(r"^```cat[ \t]*\n(.*?)^```", re.M | re.S)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
WIDTH, HEIGHT = 1280, 1600
INDIGO = (63, 81, 181)  # mkdocs-material's `primary: indigo`, the header bar

# The tour opens every course page in a frame of its own and, once each has loaded (its
# pictures included), writes what it found into #probe for `--dump-dom` to print.
TOUR = """<!doctype html><html><body><script>
const pages = %s;
const found = {};
let left = pages.length;
for (const page of pages) {
  const frame = document.createElement("iframe");
  frame.width = %d; frame.height = 900;
  frame.onload = () => {
    const doc = frame.contentDocument;
    found[page] = {
      images: [...doc.querySelectorAll("article img")].map(
        (i) => [i.getAttribute("src"), i.complete, i.naturalWidth, i.naturalHeight, i.width,
                i.closest("p").clientWidth, i.closest("a") && i.closest("a").href, i.src]),
      blocks: [...doc.querySelectorAll("article div.language-cat")].map((b) => [
        ...new Set([...b.querySelectorAll("code span[class]")].map((s) => s.className))]),
    };
    if (--left === 0) {
      const probe = document.createElement("pre");
      probe.id = "probe";
      probe.textContent = JSON.stringify(found);
      document.body.appendChild(probe);
    }
  };
  frame.src = page;
  document.body.appendChild(frame);
}
</script></body></html>"""


def page_url(page: Path) -> str:
    return f"/course/{page.stem}/" if page.stem != "index" else "/course/"


class _Site(SimpleHTTPRequestHandler):
    """The built site, plus the tour page at /tour.html; it keeps quiet in the test log."""

    def do_GET(self) -> None:
        if self.path != "/tour.html":
            return super().do_GET()
        body = (TOUR % (json.dumps([page_url(p) for p in COURSE]), WIDTH)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """The site built into a temporary folder and served on a free localhost port."""
    built = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(built)]
    subprocess.run(command, cwd=REPO, env=env, check=True, timeout=300)
    handler = functools.partial(_Site, directory=str(built))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile and no network beyond localhost."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def lexer_classes(block: str) -> set[str]:
    """The CSS classes Pygments gives catdsl's tokens in `block` (whitespace aside)."""
    return {
        STANDARD_TYPES[kind]
        for kind, text in lex(block, CatLexer())
        if text.strip() and kind not in Whitespace
    }


@pytest.fixture(scope="module")
def tour(site: str, tmp_path_factory) -> dict[str, dict]:
    profile = tmp_path_factory.mktemp("profile")
    dom = chromium(profile, "--virtual-time-budget=30000", "--dump-dom", f"{site}/tour.html")
    probe = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert probe, "the course pages did not all load in Chromium"
    return json.loads(html.unescape(probe.group(1)))


@pytest.mark.parametrize("page", COURSE, ids=lambda p: p.name)
def test_every_picture_of_a_page_loads(tour: dict[str, dict], page: Path) -> None:
    found = tour[page_url(page)]["images"]
    named = [Path(src).name for src in IMAGE.findall(page.read_text())]
    assert [Path(src).name for src, *_ in found] == named
    for src, complete, width, height, shown, column, link, url in found:
        assert complete and width > 0 and height > 0, f"{src} did not load in {page.name}"
        # whole in the text column (never wider, never enlarged) and a click opens it full size
        assert 0 < shown <= min(width, column), f"{src} is {shown}px wide in {page.name}"
        assert link == url, f"{src} does not link to itself in {page.name}"


@pytest.mark.parametrize("page", COURSE, ids=lambda p: p.name)
def test_every_cat_block_is_highlighted_by_the_catdsl_lexer(
    tour: dict[str, dict], page: Path
) -> None:
    shown = tour[page_url(page)]["blocks"]
    written = FENCE.findall(page.read_text())
    assert len(shown) == len(written), f"{page.name}: a `.cat` block is not shown as catdsl"
    for classes, block in zip(shown, written, strict=True):
        assert set(classes) - {"w"} == lexer_classes(block)


@pytest.mark.parametrize("page", COURSE, ids=lambda p: p.name)
def test_every_chapter_screenshot_shows_the_page(site: str, tmp_path: Path, page: Path) -> None:
    shot = tmp_path / f"{page.stem}.png"
    chromium(
        tmp_path / "profile",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        f"{site}{page_url(page)}",
    )
    with Image.open(shot) as image:
        assert image.size == (WIDTH, HEIGHT)
        pixels = image.convert("RGB")
    # the stylesheet loaded: the header bar is the theme's indigo, across the page's width
    for x in (5, WIDTH // 2, WIDTH - 5):
        assert _near(pixels.getpixel((x, 10)), INDIGO), pixels.getpixel((x, 10))
    # below it, the page is drawn: text and highlighted code in many colours, not a blank
    body = pixels.crop((0, 80, WIDTH, HEIGHT))
    colours = body.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200
    white = sum(count for count, colour in colours if _near(colour, (255, 255, 255)))
    assert white < 0.97 * body.width * body.height


def _near(colour: tuple[int, ...], expected: tuple[int, int, int], slack: int = 12) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour[:3], expected, strict=True))
