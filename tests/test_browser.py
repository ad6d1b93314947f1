"""Every page of the built site, as a reader's browser meets it (headless Chromium).

Each page is loaded once at desktop width and scrolled to its end; the tests
below then ask about that visit. Screenshots of every page, at desktop and
phone widths, in the light and the dark theme, are kept as test artefacts in
ARTIFACTS (default: test-artifacts/screenshots/ in the project).
"""

import os
from pathlib import Path

import pytest

from figgen.sitecheck import CHAPTER_BUDGET_BYTES, DESKTOP, PHONE, SCROLL_TO_END, is_chapter, pages_of, visit

from conftest import ROOT

ARTIFACTS = Path(os.environ.get("ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
# Every page the nav lists (the home page is '').
PAGES = [
    "",
    "part1-latent-diffusion/",
    "part2-clip-text-embedder/",
    "part3-vae/",
    "part4-unet/",
    "part5-putting-it-together/",
    "play/",
    "try-it/",
    "build-tiny-sd/",
    "mini-sd/",
    "glossary/",
    "about-figures/",
]

IMAGES = """() => [...document.querySelectorAll('img')].map(img => ({
    src: img.currentSrc || img.src,
    alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
    visible: img.getClientRects().length > 0,
    lazy: img.getAttribute('loading') === 'lazy',
    sized: img.hasAttribute('width') && img.hasAttribute('height'),
    inViewer: img.closest('.step-viewer') !== null,
}))"""

FORMULAS = """() => [...document.querySelectorAll('article math')].map(math => {
    const box = math.getBoundingClientRect();
    return {text: math.textContent.trim().slice(0, 40), width: box.width, height: box.height};
})"""


def screenshot(browser, url: str, name: str, viewport: dict, scheme: str) -> None:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(img => img.loading = 'eager')")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=ARTIFACTS / f"{name}-{viewport['width']}-{scheme}.png", full_page=True)
    context.close()


@pytest.fixture(scope="module")
def visits(browser, site_url):
    """The pages visited so far: path -> (Visit, images, formulas, axe violations)."""
    return {}


@pytest.fixture
def seen(request, visits, browser, site_url):
    """The visit of the page this test is parametrised with, made once per module."""
    path = request.node.callspec.params["path"]
    if path not in visits:
        from axe_playwright_python.sync_playwright import Axe

        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        record = visit(page, site_url + path)
        # A reader may open every "For the curious" box: what is inside must load and pass too.
        page.evaluate("document.querySelectorAll('article details').forEach(box => { box.open = true; })")
        page.evaluate(SCROLL_TO_END)
        page.wait_for_load_state("networkidle")
        images = page.evaluate(IMAGES)
        formulas = page.evaluate(FORMULAS)
        violations = Axe().run(page).response["violations"]
        context.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = path.strip("/") or "home"
        for viewport in (DESKTOP, PHONE):
            for scheme in ("light", "dark"):
                screenshot(browser, site_url + path, name, viewport, scheme)
        visits[path] = (record, images, formulas, violations)
    return visits[path]


def test_the_pages_tested_are_every_page_built(site):
    assert sorted(pages_of(site)) == sorted(PAGES + ["404/"] * ("404/" in pages_of(site)))


@pytest.mark.parametrize("path", PAGES)
def test_the_page_loads_with_no_error_and_nothing_from_other_hosts(path, seen):
    record = seen[0]
    assert record.console_errors == [], f"console errors on /{path}"
    assert record.failed_requests == [], f"failed requests on /{path}"
    assert record.other_hosts == [], f"/{path} asks another host for these; serve them from the site"


@pytest.mark.parametrize("path", PAGES)
def test_every_image_loads_and_has_alt_text(path, seen):
    images = seen[1]
    broken = [image["src"] for image in images if image["visible"] and not image["loaded"]]
    assert broken == [], f"images that did not load on /{path}"
    no_alt = [image["src"] for image in images if image["alt"] is None]
    assert no_alt == [], f"images without an alt attribute on /{path}"
    content = [image for image in images if "/figures/" in image["src"] and not image["inViewer"]]
    assert all(image["alt"].strip() for image in content), f"a figure on /{path} has empty alt text"
    # Figures load only when scrolled near, and hold their place before they do (no jumping layout).
    assert [image["src"] for image in content if not (image["lazy"] and image["sized"])] == []


@pytest.mark.parametrize("path", [page for page in PAGES if page.startswith("part")])
def test_every_formula_is_drawn(path, seen, site):
    formulas = seen[2]
    in_html = (site / path / "index.html").read_text().count("<math")
    assert len(formulas) == in_html
    flat = [formula["text"] for formula in formulas if formula["width"] < 4 or formula["height"] < 4]
    assert flat == [], f"formulas on /{path} that the browser drew with no size"


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_or_critical_accessibility_problem(path, seen):
    violations = [v for v in seen[3] if v["impact"] in ("serious", "critical")]
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['target']}" for v in violations
    ]
    assert summary == [], f"axe-core on /{path}"


@pytest.mark.parametrize("path", [page for page in PAGES if is_chapter(page)])
def test_a_chapter_downloads_at_most_its_budget_on_a_first_visit(path, seen):
    weight = seen[0].bytes_loaded
    print(f"/{path}: {weight / 1e3:.0f} KB on a first visit, scrolled to the end")
    assert 100_000 < weight <= CHAPTER_BUDGET_BYTES


VIEWER = "#fig-denoise-renoise-animation .step-viewer"


def test_the_step_viewer_works_by_keyboard_and_announces_each_step(browser, site_url):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(site_url + "part1-latent-diffusion/")
    viewer = page.locator(VIEWER)
    viewer.scroll_into_view_if_needed()
    readout = viewer.locator(".step-viewer__readout")
    slider = viewer.get_by_role("slider", name="Denoising step")
    noisy = viewer.locator("img").first
    assert page.locator("#fig-denoise-renoise-animation > p:has(img)").is_hidden(), "the animation should give way"
    assert readout.get_attribute("aria-live") == "off"  # nothing is announced before the reader acts
    steps = int(slider.get_attribute("max")) - 1
    # It opens part-way, where the guess already shows something, not on step 1's blur.
    assert readout.inner_text().startswith(f"Step {round(steps * 0.4)} of {steps}")

    slider.focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert readout.inner_text().startswith(f"Step 4 of {steps} · noise level 0.")
    assert readout.get_attribute("title").startswith("Timestep ")  # the training's count, for the curious
    assert readout.get_attribute("aria-live") == "polite"
    assert "Step 4 of" in slider.get_attribute("aria-valuetext")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=noisy.element_handle())
    assert noisy.get_attribute("src").endswith("xt-004.webp")
    assert "step 4 of" in noisy.get_attribute("alt")

    page.keyboard.press("End")
    assert readout.inner_text().startswith("Finished")
    page.keyboard.press("Home")
    assert readout.inner_text().startswith(f"Step 1 of {steps}")

    page.keyboard.press("Space")  # play
    play = viewer.get_by_role("button", name="Pause")
    play.wait_for()
    page.wait_for_timeout(700)
    page.keyboard.press("Space")  # pause
    viewer.get_by_role("button", name="Play").wait_for()
    reached = int(slider.input_value())
    assert 1 < reached <= steps + 1
    assert readout.get_attribute("aria-live") == "polite"

    viewer.get_by_role("button", name="Previous step").focus()
    page.keyboard.press("Enter")
    assert int(slider.input_value()) == reached - 1
    page.keyboard.press("ArrowRight")  # arrows work from the buttons too
    assert int(slider.input_value()) == reached
    context.close()


def test_without_javascript_the_figure_stays_as_drawn(browser, site_url):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "part1-latent-diffusion/")
    figure = page.locator("#fig-denoise-renoise-animation")
    assert figure.locator("img").first.is_visible()
    assert figure.locator(".step-viewer").count() == 0
    context.close()


def test_a_click_enlarges_a_figure_and_escape_closes_it(browser, site_url):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(site_url + "part1-latent-diffusion/")
    figure = page.locator("#fig-denoise-renoise img").first
    figure.scroll_into_view_if_needed()
    figure.click()
    enlarged = page.locator(".glightbox-container .gslide.current img")
    enlarged.wait_for()
    assert enlarged.get_attribute("src").endswith("part1/denoise-renoise.webp")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=enlarged.element_handle())
    page.screenshot(path=ARTIFACTS / "enlarged-figure-1280-light.png")
    page.keyboard.press("Escape")
    page.locator(".glightbox-container").wait_for(state="detached")
    context.close()
