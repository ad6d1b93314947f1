// The step viewer: stop a denoising run at any step, step back, play it.
//
// figgen writes, beside each figure that records every step, a folder of frames and an
// index.json (figgen/figures/steps.py); the site hook marks the figure with
// data-steps="<index, relative to the figure's picture>" and data-viewer="replace" (the viewer takes the place of the
// figure's animation) or "add" (it goes under the figure's picture). Without JavaScript,
// or if the index cannot be read, the figure stays exactly as drawn.
//
// Keys, anywhere in the viewer: ← → one step, Home / End first / last, space play / pause.

(function () {
  "use strict";

  const FRAME_MS = 150;

  function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function picture(label) {
    const box = element("div", { class: "step-viewer__picture" });
    const image = element("img", { alt: "", decoding: "async" });
    box.append(image, element("span", { class: "step-viewer__label", "aria-hidden": "true" }, label));
    return { box, image };
  }

  function build(figure, index, base) {
    const steps = index.steps;
    const last = steps.length; // position last + 1 is the finished picture
    const noisy = picture("Noisy input: what the model is given at this step");
    const guess = picture("Its guess of the finished picture");

    const viewer = element("div", {
      class: "step-viewer",
      role: "group",
      "aria-label": `Step through all ${last} steps of this run`,
    });
    const pictures = element("div", { class: "step-viewer__pictures" });
    pictures.append(noisy.box, guess.box);

    const readout = element("p", { class: "step-viewer__readout", "aria-live": "polite" });
    const controls = element("div", { class: "step-viewer__controls" });
    const previous = element("button", { type: "button", "aria-label": "Previous step" }, "\u2039");
    const play = element("button", { type: "button", "aria-label": "Play", class: "step-viewer__play" }, "\u25b6");
    const next = element("button", { type: "button", "aria-label": "Next step" }, "\u203a");
    const slider = element("input", {
      type: "range",
      min: "1",
      max: String(last + 1),
      value: "1",
      step: "1",
      "aria-label": "Denoising step",
    });
    controls.append(previous, play, next, slider);
    const hint = element(
      "p",
      { class: "step-viewer__hint" },
      "Drag the slider, or use the arrow keys, Home and End; space plays and pauses."
    );
    viewer.append(pictures, readout, controls, hint);

    // It opens part-way (step 20 of 50), where the guess already shows something, so that a reader
    // who never touches it still sees what it is for; the first play runs the whole film from step 1.
    const opening = Math.max(1, Math.round(last * 0.4));
    let position = opening;
    let moved = false;
    let timer = null;

    function describe(at) {
      if (at > last) return `Finished: the final picture, after all ${last} steps`;
      const step = steps[at - 1];
      return (
        `Step ${step.step} of ${last} \u00b7 noise level ${step.noise_level.toFixed(2)} (1 = all noise)`
      );
    }

    function show(at, announce = true) {
      position = Math.min(Math.max(at, 1), last + 1);
      const step = steps[position - 1];
      const [left, right] = step ? [step.xt, step.x0] : [index.final, index.final];
      noisy.image.src = new URL(left, base).href;
      guess.image.src = new URL(right, base).href;
      const words = step ? `step ${step.step} of ${last}` : "the finished picture";
      noisy.image.alt = `The noisy latent the model is given at ${words}, decoded.`;
      guess.image.alt = `The model's guess of the finished picture at ${words}.`;
      slider.value = String(position);
      slider.setAttribute("aria-valuetext", describe(position));
      readout.setAttribute("aria-live", announce ? "polite" : "off");
      readout.textContent = describe(position);
      readout.title = step
        ? `Timestep ${step.timestep} of training's 1,000. The noise level is 1\u2212\u1fb1\u209c, ` +
          "the noise's share of the noisy latent at this timestep (Part 4's noise chart)."
        : "";
      // Fetch the next frames ahead, so that playing does not stutter.
      for (const ahead of steps.slice(position, position + 3)) {
        new Image().src = new URL(ahead.xt, base).href;
        new Image().src = new URL(ahead.x0, base).href;
      }
    }

    function stop() {
      clearInterval(timer);
      timer = null;
      play.textContent = "\u25b6";
      play.setAttribute("aria-label", "Play");
      show(position); // announce where it stopped
    }

    function start() {
      if (!moved || position > last) show(1, false);
      moved = true;
      play.textContent = "\u275a\u275a";
      play.setAttribute("aria-label", "Pause");
      timer = setInterval(() => {
        if (position > last) return stop();
        show(position + 1, false);
      }, FRAME_MS);
    }

    const toggle = () => (timer ? stop() : start());
    const go = (at) => {
      moved = true;
      if (timer) stop();
      show(at);
    };

    play.addEventListener("click", toggle);
    previous.addEventListener("click", () => go(position - 1));
    next.addEventListener("click", () => go(position + 1));
    slider.addEventListener("input", () => go(Number(slider.value)));
    viewer.addEventListener("keydown", (event) => {
      const onSlider = event.target === slider; // the slider moves itself with arrows, Home and End
      const moves = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 };
      if (event.key === " " && event.target.tagName !== "BUTTON") toggle();
      else if (!onSlider && event.key in moves) go(position + moves[event.key]);
      else if (!onSlider && event.key === "Home") go(1);
      else if (!onSlider && event.key === "End") go(last + 1);
      else return;
      event.preventDefault();
    });

    show(opening, false);
    return viewer;
  }

  async function setUp(figure) {
    const still = figure.querySelector("img");
    if (!still) return;
    const base = new URL(figure.dataset.steps, still.src);
    let index;
    try {
      const response = await fetch(base);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      index = await response.json();
    } catch (error) {
      console.warn(`The step viewer could not read ${base}: ${error}; the figure stays as drawn.`);
      return;
    }
    const viewer = build(figure, index, base);
    const caption = figure.querySelector("figcaption");
    figure.insertBefore(viewer, caption);
    if (figure.dataset.viewer === "replace") (still.closest("p") || still).hidden = true;
    figure.classList.add("has-step-viewer");
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("figure[data-steps]").forEach(setUp);
  });
})();
