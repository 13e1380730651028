"""A ``Document`` as a printable HTML page for the screen: the same text as the PDF.

Self-contained (no script, no font, no stylesheet to fetch): the one ``<style>`` element is
allowed by its hash in the page's own Content-Security-Policy, ``CONTENT_SECURITY_POLICY``,
which the route serving the page sets instead of the app-wide policy (that one allows only
same-origin stylesheets).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape

from backend.documents import rules

CSS = files("backend.documents").joinpath("templates/document.css").read_text("utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    f"style-src 'sha256-{_CSS_HASH}'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
))


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("backend.documents", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def _kind(block: rules.Block) -> str:
    return {rules.Paragraph: "paragraph", rules.Fields: "fields", rules.Items: "items",
            rules.Table: "table", rules.SignatureLines: "signatures"}[type(block)]


def render(document: rules.Document) -> bytes:
    template = _environment().get_template("document.html")
    return template.render(
        doc=document, css=CSS, seal=rules.words(document.lang)["seal"],
        blocks=[(_kind(block), block) for block in document.blocks],
        blocks_after=[(_kind(block), block) for block in document.blocks_after_office],
    ).encode("utf-8")
