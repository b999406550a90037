"""`maestro graph --format html`: one page that renders offline. The vendored Mermaid is the one its
NOTICE names, the page loads nothing (its CSP allows no fetch), and a real headless Chromium renders
it to an SVG holding every step and serving object.

The browser test runs Debian's `chromium` when it is on PATH, or the executable $MAESTRO_CHROMIUM
names; without either it is skipped, saying so. CI (`.ci/run`) installs it and sets MAESTRO_CHROMIUM,
so there it fails rather than skips."""

from __future__ import annotations

import gzip
import hashlib
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from maestro.graph import html as page
from tests.support import REPO, maestro

VENDORED = REPO / "compiler" / "maestro" / "resources" / "mermaid"
# Everything that could reach the network or another process; the page renders with all of it off.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=5000", "--dump-dom")


def graph_page(pipeline: str, env: str) -> str:
    return maestro(REPO, "graph", pipeline, "--env", env, "--format", "html", check=True).stdout


def test_the_vendored_mermaid_is_the_one_its_notice_names() -> None:
    script = gzip.decompress((VENDORED / "mermaid.min.js.gz").read_bytes())
    notice = (VENDORED / "NOTICE.md").read_text()
    assert hashlib.sha256(script).hexdigest() == page.MERMAID_SHA256
    assert page.MERMAID_SHA256 in notice and f"mermaid {page.MERMAID_VERSION}" in notice
    assert (VENDORED / "LICENSE").read_text().startswith("The MIT License (MIT)")


def test_the_page_is_self_contained() -> None:
    text = graph_page("msft-momentum", "prod")
    assert text.count("<script>") == text.count("</script>") == 2   # Mermaid's code cannot end its element early
    markup = re.sub(r"<script>.*?</script>", "<script></script>", text, flags=re.S)
    assert "default-src 'none'" in markup and re.search(r"<(link|img|iframe|object)\b|\b(src|href)=", markup) is None
    source = maestro(REPO, "graph", "msft-momentum", "--env", "prod", check=True).stdout
    assert f'<pre class="mermaid">\n{html.escape(source)}</pre>' in text


def chromium() -> str:
    explicit = os.environ.get("MAESTRO_CHROMIUM")
    if explicit:
        if not Path(explicit).is_file():
            pytest.fail(f"MAESTRO_CHROMIUM={explicit} is not a file; point it at a chromium executable")
        return explicit
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed (apt-get install chromium), and MAESTRO_CHROMIUM is not set")
    return found


def rendered_svg(browser: str, page_file: Path, profile: Path) -> str:
    answer = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", page_file.as_uri()],
                            capture_output=True, text=True, timeout=180)
    assert answer.returncode == 0, answer.stderr[-2000:]
    match = re.search(r'<svg id="mermaid-[^"]*".*?</svg>', answer.stdout, re.S)
    assert match, "no Mermaid <svg> in the rendered page: " + answer.stderr[-2000:]
    return match.group(0)


def svg_text(svg: str) -> str:
    without_style = re.sub(r"<style>.*?</style>", " ", svg, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_style)))


@pytest.mark.browser
@pytest.mark.parametrize("pipeline, names", [
    ("msft-momentum", ["ingest", "validate", "features", "train", "evaluate", "gate", "publish", "backtest",
                       "custom step", "1 GPU", "when {{tasks.gate.outputs.parameters.passed}} == true",
                       "Model msft-momentum-v11", "Model msft-momentum-v12",
                       "Experiment msft-momentum-shadow-v12-w15", "CronWorkflow msft-momentum"]),
    ("goog-volatility", ["ingest", "train", "2 GPUs", "gate", "publish", "CronWorkflow goog-volatility"]),
])
def test_a_headless_browser_renders_the_page_offline(tmp_path: Path, pipeline: str, names: list[str]) -> None:
    browser = chromium()
    page_file = tmp_path / f"{pipeline}.html"
    page_file.write_text(graph_page(pipeline, "prod"), encoding="utf-8")
    svg = rendered_svg(browser, page_file, tmp_path / "profile")
    shown = svg_text(svg)
    assert 'class="flowchart"' in svg and "Syntax error" not in shown
    assert [name for name in names if name not in shown] == []
