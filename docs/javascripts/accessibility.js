// Small accessibility repairs to what the theme and the notebook converter write
// (checked by axe-core in tests/test_browser.py).
document.addEventListener("DOMContentLoaded", () => {
  // The search overlay is a dialog: give it a name a screen reader can announce.
  const search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search this site");
  // Notebook code cells scroll sideways: let keyboard users reach them to scroll.
  document.querySelectorAll(".highlight-ipynb, .jp-OutputArea-output pre").forEach((block) => {
    if (block.scrollWidth > block.clientWidth && !block.hasAttribute("tabindex")) {
      block.setAttribute("tabindex", "0");
      block.setAttribute("role", "region");
      block.setAttribute("aria-label", "Code (scrolls sideways)");
    }
  });
});
