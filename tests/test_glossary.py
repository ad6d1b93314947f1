"""Every glossary term links to its entry where a reader first meets it.

Checked on the built site, as a reader gets it: the five parts in the order of
the nav, each page's article text (captions included; headings, code, formulas,
the small print under figures and everything from "References" on left out).
What counts as a term is data: the glossary's headings, plus the other
spellings in tests/glossary_terms.toml.
"""

import re
import tomllib
from html.parser import HTMLParser

import pytest
import yaml

from conftest import ROOT
from test_site import build

ALIASES = ROOT / "tests" / "glossary_terms.toml"
HEADINGS = {f"h{n}" for n in range(1, 7)}
SKIPPED = HEADINGS | {"code", "pre", "math", "script", "style"}
BLOCKS = HEADINGS | {"p", "li", "figcaption", "td", "th", "summary", "details", "div", "blockquote"}
GLOSSARY_LINK = re.compile(r"(?:^|/)glossary(?:/|\.md|/index\.html)?#([A-Za-z0-9_-]+)$")


class ArticleText(HTMLParser):
    """The reader's text of a page's article, as pieces: (text, glossary anchor it links to or None)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str | None]] = []
        self.headings: list[tuple[str, str]] = []  # (id, text) of every h2, for the glossary itself
        self.depth = 0  # > 0 inside the article
        self.stack: list[tuple[str, bool, str | None]] = []  # (tag, skipped, glossary anchor)
        self.done = False
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.depth += 1
        if not self.depth or self.done or tag in {"br", "img", "hr", "input", "meta", "link", "wbr"}:
            return
        if tag == "h2" and attrs.get("id") == "references":
            self.done = True
            return
        classes = (attrs.get("class") or "").split()
        parent_skipped, parent_anchor = (self.stack[-1][1], self.stack[-1][2]) if self.stack else (False, None)
        skipped = parent_skipped or tag in SKIPPED or "figgen-provenance" in classes or "headerlink" in classes
        anchor = parent_anchor
        if tag == "a":
            match = GLOSSARY_LINK.search(attrs.get("href", ""))
            anchor = match.group(1) if match else None
        self.stack.append((tag, skipped, anchor))
        if tag == "h2":
            self._heading = [attrs.get("id", "")]

    def handle_endtag(self, tag):
        if tag == "article":
            self.depth -= 1
        if self.depth and tag in BLOCKS:
            self.pieces.append(("\n\n", None))
        if tag == "h2" and self._heading is not None:
            self.headings.append((self._heading[0], "".join(self._heading[1:]).strip()))
            self._heading = None
        while self.stack:
            open_tag, *_ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.depth or self.done or not self.stack:
            return
        tag, skipped, anchor = self.stack[-1]
        if self._heading is not None:
            self._heading.append(data.replace("¶", ""))
        if not skipped:
            self.pieces.append((re.sub(r"\s+", " ", data), anchor))


def read(path) -> ArticleText:
    parser = ArticleText()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def terms(glossary: ArticleText) -> dict[str, tuple[str, list[str]]]:
    """Glossary anchor -> (heading, every spelling that counts as the term)."""
    aliases = tomllib.loads(ALIASES.read_text(encoding="utf-8"))["aliases"]
    table = {anchor: (heading, [heading]) for anchor, heading in glossary.headings}
    by_heading = {heading: anchor for anchor, (heading, _) in table.items()}
    for heading, others in aliases.items():
        assert heading in by_heading, f"{ALIASES.name} lists aliases for '{heading}', which is no glossary heading"
        table[by_heading[heading]][1].extend(others)
    return table


def pattern(spelling: str) -> str:
    words = r"\s+".join(re.escape(word) for word in spelling.split())
    return rf"(?<![\w-]){words}s?(?![\w-])"


def first_uses(pages, table) -> list[tuple[str, str, int, str, str | None, str]]:
    """For each term, where the reader first meets it: (anchor, page, offset, spelling seen, link, sentence)."""
    found = {}
    for name, article in pages:
        text, links, offset = "", [], 0
        for piece, anchor in article.pieces:
            text += piece
            links.append((offset, offset + len(piece), anchor))
            offset += len(piece)
        matches = []
        for anchor, (_, spellings) in table.items():
            for spelling in spellings:
                for m in re.finditer(pattern(spelling), text, re.IGNORECASE):
                    matches.append((m.start(), -(m.end() - m.start()), m.end(), anchor))
        taken_until = -1
        for start, _, end, anchor in sorted(matches):
            if start < taken_until:
                continue  # part of a longer term met at the same place ("text encoder", not "encoder")
            taken_until = end
            if anchor in found:
                continue
            link = next((a for s, e, a in links if s <= start < e), None)
            sentence_start = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start), -1) + 1
            ends = [i for i in (text.find(". ", end), text.find("\n\n", end)) if i >= 0]
            sentence = " ".join(text[sentence_start : min(ends, default=len(text))].split())
            found[anchor] = (anchor, name, start, " ".join(text[start:end].split()), link, sentence)
    return sorted(found.values(), key=lambda use: use[1:3])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = tmp_path_factory.mktemp("site-glossary")
    result = build(ROOT, site)
    assert result.returncode == 0, result.stderr
    return site


def reading_order() -> list[str]:
    """The parts, in the order of the nav in mkdocs.yml."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    pages = [next(iter(entry.values())) for entry in nav]
    return [page for page in pages if re.match(r"part\d", page)]


def test_the_first_use_of_every_glossary_term_links_to_its_entry(built):
    table = terms(read(built / "glossary" / "index.html"))
    assert len(table) >= 20, "the glossary has too few headings to be read"
    order = reading_order()
    assert len(order) == 5
    pages = [(name, read(built / name.removesuffix(".md") / "index.html")) for name in order]
    assert all(article.pieces for _, article in pages), "no article text found on a part"
    uses = first_uses(pages, table)
    unlinked = [
        f"{name}: '{seen}' (glossary: {table[anchor][0]}) links to {link or 'nothing'}; in: {sentence}"
        for anchor, name, _, seen, link, sentence in uses
        if link != anchor
    ]
    assert not unlinked, "first use of a glossary term is not linked to its entry:\n" + "\n".join(unlinked)


def test_no_sentence_brings_in_two_new_terms(built):
    table = terms(read(built / "glossary" / "index.html"))
    pages = [(name, read(built / name.removesuffix(".md") / "index.html")) for name in reading_order()]
    by_sentence = {}
    for anchor, name, _, _, _, sentence in first_uses(pages, table):
        by_sentence.setdefault((name, sentence), []).append(table[anchor][0])
    crowded = [f"{name}: {', '.join(names)}; in: {sentence}" for (name, sentence), names in by_sentence.items() if len(names) > 1]
    assert not crowded, "sentences that bring in more than one new glossary term:\n" + "\n".join(crowded)
