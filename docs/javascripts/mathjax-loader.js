// Typeset maths with the MathJax copy served from this site, and only on
// pages that have maths (pymdownx.arithmatex marks it with .arithmatex).
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*", processHtmlClass: "arithmatex" },
  svg: { fontCache: "global" },
};
(function () {
  var here = document.currentScript.src;
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector(".arithmatex")) return;
    var script = document.createElement("script");
    script.src = new URL("mathjax/tex-svg.js", here).href;
    script.async = true;
    document.head.appendChild(script);
  });
})();
