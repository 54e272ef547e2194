"""The built site, read in a real browser: pages, figures, formulas, search, buttons, references.

These tests serve ``_build/html`` (``make site`` builds it) on 127.0.0.1 and drive Debian's
headless Chromium with Playwright. Nothing leaves loopback: a request to any other host is
aborted and counted, so a page that depends on the internet fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHAPTERS = [
    ("book/intro.html", "MNIST digit classification"),
    ("book/01_data.html", "Data"),
    ("book/02_preprocessing.html", "Preprocessing"),
    ("book/03_model.html", "Model"),
    ("book/04_training.html", "Training"),
    ("book/05_results.html", "Results"),
    ("book/06_error_analysis.html", "Error analysis"),
    ("book/07_activations_optimizers.html", "Activations and optimizers"),
    ("book/08_convolutional.html", "convolutional network"),
    ("book/09_regularization.html", "Regularization"),
    ("book/10_comparison.html", "Comparison"),
    ("book/appendix_benchmarks.html", "how fast it runs"),
]
"""Every page of the book in reading order, with a word its heading must contain."""


@pytest.fixture
def page(browser_context, site_url: str) -> Iterator:
    page = browser_context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text)  # type: ignore[attr-defined]
            if message.type == "error"
            else None
        ),
    )
    yield page
    page.close()


def _open(page, site_url: str, path: str) -> None:
    response = page.goto(f"{site_url}/{path}", wait_until="load")
    assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"


def test_every_chapter_has_a_page_with_its_title(page, site_url: str) -> None:
    for path, title in CHAPTERS:
        _open(page, site_url, path)
        heading = page.locator("article h1").first.inner_text()
        assert title.lower() in heading.lower(), f"{path}: heading {heading!r}"


def test_every_figure_loads_is_numbered_and_fits(page, site_url: str) -> None:
    total = 0
    for path, _ in CHAPTERS[1:]:
        _open(page, site_url, path)
        figures = page.locator("article figure")
        count = figures.count()
        assert count >= 1, f"{path} has no numbered figure"
        content_width = page.evaluate("document.querySelector('article').clientWidth")
        for index in range(count):
            figure = figures.nth(index)
            figure.scroll_into_view_if_needed()
            caption = figure.locator(".caption-number").inner_text()
            assert re.match(r"Fig\. \d+(\.\d+)*", caption), f"{path}: caption {caption!r}"
            image = figure.locator("img").first
            natural_width = image.evaluate("img => img.naturalWidth")
            shown_width = image.evaluate("img => img.getBoundingClientRect().width")
            assert natural_width > 0, f"{path}: figure {index + 1} image did not load"
            assert shown_width <= content_width + 1, f"{path}: figure {index + 1} is clipped"
        total += count
    assert total >= 12


def test_no_error_or_log_output_is_shown(page, site_url: str) -> None:
    for path, _ in CHAPTERS[1:]:
        _open(page, site_url, path)
        assert page.locator(".output.stderr, .output.traceback").count() == 0, path
        text = page.locator("article").inner_text()
        for noise in ("Traceback", "WARNING", "cuda", "I0000", "oneDNN"):
            assert noise not in text, f"{path} shows {noise!r}"


def test_formulas_are_typeset_by_the_bundled_mathjax(page, site_url: str) -> None:
    _open(page, site_url, "book/03_model.html")
    page.wait_for_selector("mjx-container", timeout=15_000)
    assert page.locator("mjx-container").count() >= 3
    scripts = page.evaluate("[...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert scripts and all(urlparse(src).hostname == "127.0.0.1" for src in scripts)


def test_search_finds_the_chapter_that_explains_softmax(page, site_url: str) -> None:
    _open(page, site_url, "search.html?q=softmax")
    page.wait_for_selector("#search-results li", timeout=15_000)
    links = page.locator("#search-results li a").evaluate_all("as => as.map(a => a.href)")
    assert any("03_model" in link for link in links), links


def test_notebook_pages_offer_download_and_launch(page, site_url: str) -> None:
    _open(page, site_url, "book/04_training.html")
    html = page.content()
    assert "_sources/book/04_training.ipynb" in html, "no notebook download link"
    assert "mybinder.org" in html, "no Binder launch button"
    assert "colab.research.google.com" in html, "no Colab launch button"
    assert 'href="https://github.com/' in html, "no repository link"
    download = page.request.get(f"{site_url}/_sources/book/04_training.ipynb")
    assert download.ok and '"cells"' in download.text()


def test_references_resolve_to_the_bibliography(page, site_url: str) -> None:
    _open(page, site_url, "book/intro.html")
    entries = " ".join(page.locator("div.citation").all_inner_texts())
    assert "LeCun" in entries and "Gradient-based learning" in entries
    assert "Kingma" in entries and "Adam" in entries
    citation = page.locator("a", has_text="LeCun").first
    target = citation.get_attribute("href") or ""
    assert "#" in target
    assert page.locator(f"[id='{target.split('#')[1]}']").count() == 1


def test_next_links_walk_the_chapters_in_order(page, site_url: str) -> None:
    _open(page, site_url, "book/intro.html")
    visited = []
    for _ in range(len(CHAPTERS) - 1):
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        visited.append(Path(urlparse(page.url).path).name)
    expected = [Path(path).name for path, _ in CHAPTERS[1:]]
    assert visited == expected


def test_pages_make_no_requests_outside_loopback_and_log_no_errors(
    page, site_url: str, blocked_requests: list[str]
) -> None:
    for path, _ in CHAPTERS:
        _open(page, site_url, path)
        page.wait_for_timeout(200)
    assert blocked_requests == []
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_nothing_is_clipped_or_scrolls_sideways(page, site_url: str) -> None:
    """Code, outputs and tables fit the text column at a common laptop width."""
    for path, _ in CHAPTERS:
        _open(page, site_url, path)
        page_overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert page_overflow <= 1, f"{path}: the page scrolls sideways by {page_overflow}px"
        clipped = page.evaluate(
            """[...document.querySelectorAll('article pre, article table')]
                 .filter(e => e.scrollWidth > e.clientWidth + 2
                           || e.getBoundingClientRect().right
                              > document.querySelector('article').getBoundingClientRect().right + 2)
                 .map(e => e.innerText.split('\\n')[0].slice(0, 60))"""
        )
        assert clipped == [], f"{path}: clipped blocks starting {clipped}"
