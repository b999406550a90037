"""The DAG picture as one self-contained HTML page: the Mermaid source, rendered in the browser by
the copy of Mermaid shipped with maestro (`maestro/resources/mermaid/`), inlined in the page.

In: a `Graph`. Out: the page, deterministic. It needs no network: the script is in the page, and
its Content-Security-Policy forbids every fetch (no `connect-src`, `img-src` or `font-src` beyond
`data:`), so a page opened from disk, a CI artifact or an air-gapped machine looks the same.
"""

from __future__ import annotations

import gzip
import html
from importlib import resources

from .mermaid import to_mermaid
from .model import Graph

MERMAID_VERSION = "11.17.2"
MERMAID_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"
MERMAID_FILE = ("resources", "mermaid", "mermaid.min.js.gz")
POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src data:; font-src data:")
# strict: labels are text, never markup or links; Mermaid's own default, spelled out.
SETTINGS = '{startOnLoad: true, securityLevel: "strict", theme: "default", flowchart: {useMaxWidth: true}}'
STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#111827}"
         "h1{font-size:1.25rem}details{margin-top:2rem}pre.source{background:#f3f4f6;padding:1rem;overflow:auto}")


def mermaid_script() -> str:
    """Mermaid's code, safe inside a <script> element: the HTML parser ends a script at `</script`
    and changes state at `<!--` and `<script`; the file has these only inside string and regex
    literals, where `\\x3C` is the same `<`."""
    data = gzip.decompress(resources.files("maestro").joinpath(*MERMAID_FILE).read_bytes()).decode("utf-8")
    for marker in ("<!--", "<script", "</script", "<SCRIPT", "</SCRIPT"):
        data = data.replace(marker, "\\x3C" + marker[1:])
    return data


def to_html(graph: Graph) -> str:
    source = to_mermaid(graph)
    title = html.escape(f"maestro graph {graph.pipeline} --env {graph.env}")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        f"<title>{title}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
        # Mermaid reads the element's text, HTML entities decoded: the escaped source is the source.
        f'<pre class="mermaid">\n{html.escape(source)}</pre>',
        f"<details><summary>Mermaid source</summary><pre class=\"source\">{html.escape(source)}</pre></details>",
        f"<script>/* mermaid {MERMAID_VERSION}, MIT licence: see maestro/resources/mermaid/ */\n{mermaid_script()}\n</script>",
        f"<script>mermaid.initialize({SETTINGS});</script>",
        "</body>",
        "</html>",
    ]) + "\n"
