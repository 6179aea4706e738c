"""Article HTML: allow-list sanitising, plain text for search, diff and print view."""

from __future__ import annotations

import difflib
import html
import re

import nh3

#: Tags an article may use: text structure, lists, links and tables (tariff tables).
TAGS = frozenset(
    {
        "p", "br", "hr", "b", "strong", "i", "em", "u", "s", "sub", "sup",
        "h1", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "pre", "code",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "span", "div", "a",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_BREAKS = re.compile(r"<(?:br|hr|/p|/div|/li|/tr|/h[1-4]|/blockquote|/pre|/caption)\b[^>]*>")
_CELLS = re.compile(r"</t[dh]>")


def sanitize(raw: str) -> str:
    """Allow-list HTML: scripts, event handlers, styles and javascript: URLs are dropped."""
    return nh3.clean(
        raw,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def plain_text(clean_html: str) -> str:
    """The readable text of sanitised HTML (block ends become newlines, cells tabs)."""
    spaced = _CELLS.sub("\t", _BREAKS.sub("\n", clean_html))
    return html.unescape(nh3.clean(spaced, tags=set())).strip()


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """A line diff of two texts (``difflib`` unified format)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=old_name,
        tofile=new_name,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def print_page(subject: str, meta: list[tuple[str, str]], body_html: str, orientation: str) -> str:
    """A self-contained A4 page; ``body_html`` must already be sanitised."""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in meta)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(subject)}</title><style>"
        f"@page {{ size: A4 {orientation}; margin: 15mm; }}"
        "body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif;"
        " font-size: 11pt; }"
        "table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 2px 4px; }"
        ".meta th { text-align: left; }"
        "</style></head><body>"
        f"<h1>{html.escape(subject)}</h1><table class='meta'>{rows}</table>"
        f"<article>{body_html}</article></body></html>"
    )
