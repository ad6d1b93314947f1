// The Play page: the form, the token list, the two pictures at every step, the step slider and
// the cross-attention overlay. The model itself is in engine.js.

import { MiniSD } from "./engine.js";

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("play-app"), unsupported: $("play-unsupported"), preview: $("play-preview"),
  form: $("play-form"), prompt: $("play-prompt"), seed: $("play-seed"), newSeed: $("play-new-seed"),
  steps: $("play-steps"), stepsValue: $("play-steps-value"),
  guidance: $("play-guidance"), guidanceValue: $("play-guidance-value"),
  go: $("play-go"), download: $("play-download"), status: $("play-status"), progress: $("play-progress"),
  tokens: $("play-tokens"), cut: $("play-cut"), known: $("play-known"),
  noisy: $("play-noisy"), clean: $("play-clean"), attention: $("play-attention"),
  step: $("play-step"), stepValue: $("play-step-value"), word: $("play-word"),
};

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
let model = null;
let run = null; // { records, tokens, settings, picture }
let running = false;

// The status line is a polite live region: screen readers announce what is written to it.
// Step-by-step progress is shown on the progress bar and announced only now and then.
function say(text) {
  ui.status.textContent = text;
}

function draw(canvas, rgba) {
  const context = canvas.getContext("2d");
  context.putImageData(new ImageData(rgba, canvas.width, canvas.height), 0, 0);
}

function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

function settings() {
  return {
    prompt: ui.prompt.value,
    seed: Number(ui.seed.value),
    steps: Number(ui.steps.value),
    guidance: Number(ui.guidance.value),
  };
}

function showSliderValues() {
  ui.stepsValue.textContent = ui.steps.value;
  ui.guidanceValue.textContent = Number(ui.guidance.value).toFixed(1);
}

// ---------------------------------------------------------------- tokens

function showTokens() {
  if (!model) return;
  const { pieces, used, cut } = model.tokens(ui.prompt.value);
  ui.tokens.replaceChildren();
  const item = (label, id, kind, note) => {
    const li = document.createElement("li");
    li.className = `play-token play-token--${kind}`;
    const text = document.createElement("span");
    text.className = "play-token__text";
    text.textContent = label;
    li.append(text);
    if (id !== null) {
      const number = document.createElement("span");
      number.className = "play-token__id";
      number.textContent = id;
      li.append(number);
    }
    if (note) {
      const hidden = document.createElement("span");
      hidden.className = "play-visually-hidden";
      hidden.textContent = note;
      li.append(hidden);
    }
    ui.tokens.append(li);
  };
  pieces.slice(0, used).forEach((piece) => {
    const note = piece.kind === "unknown" ? " (a word mini-sd never learned)"
      : piece.kind === "special" ? ` (the ${piece.text} marker)` : "";
    item(piece.text || "·", piece.id, piece.kind, note);
  });
  const padding = model.maxTokens - used;
  if (padding > 0) item(`… ${padding} × pad`, null, "pad", ` (${padding} padding tokens, number ${pieces[used].id}, fill the row to ${model.maxTokens})`);
  ui.cut.hidden = cut === 0;
  ui.cut.textContent = cut ? `Your prompt is too long: the last ${cut} word piece${cut > 1 ? "s do" : " does"} not fit into the 77 and ${cut > 1 ? "are" : "is"} left out, as in Stable Diffusion.` : "";
}

// ---------------------------------------------------------------- one step of a run

function showStep(index) {
  const record = run.records[index];
  draw(ui.noisy, record.noisyPicture);
  draw(ui.clean, record.cleanPicture);
  const last = index === run.records.length - 1;
  ui.noisy.setAttribute("aria-label", `The noisy picture at step ${record.step} of ${record.steps}`);
  ui.clean.setAttribute("aria-label", `The model's guess at the finished picture, at step ${record.step} of ${record.steps}, for "${run.settings.prompt}"`);
  ui.stepValue.textContent = `Step ${record.step} of ${record.steps} (noise level t = ${record.timestep}${last ? ", the last step" : ""})`;
  showAttention(record);
}

function showAttention(record) {
  const choice = ui.word.value;
  if (choice === "" || !record) {
    clearCanvas(ui.attention);
    ui.attention.hidden = true;
    return;
  }
  const token = Number(choice);
  const [side] = [ui.attention.width];
  const area = side * side;
  const map = record.attention.subarray(token * area, (token + 1) * area);
  let high = 0;
  for (const value of map) high = Math.max(high, value);
  // A spotlight: the spots that gave the word the most weight stay clear, the rest is dimmed.
  const rgba = new Uint8ClampedArray(area * 4);
  for (let p = 0; p < area; p++) {
    rgba[p * 4 + 3] = Math.round(215 * (1 - (high > 0 ? map[p] / high : 0)));
  }
  draw(ui.attention, rgba);
  ui.attention.hidden = false;
}

function fillWords(tokens) {
  ui.word.replaceChildren(new Option("no word", ""));
  tokens.pieces.slice(1, tokens.used - 1).forEach((piece, index) => {
    ui.word.append(new Option(`${piece.text} (token ${index + 1})`, String(index + 1)));
  });
  ui.word.append(new Option("end (the end marker)", String(tokens.used - 1)));
}

// ---------------------------------------------------------------- running

async function ensureModel() {
  if (model.unet) return;
  ui.progress.hidden = false;
  say(`Downloading mini-sd and its runtime (${megabytes(model.downloadBytes)}), once…`);
  let announced = 0;
  await model.loadNetworks((loaded, total) => {
    ui.progress.value = loaded / total;
    ui.download.textContent = `${megabytes(loaded)} of ${megabytes(total)}`;
    const quarter = Math.floor((4 * loaded) / total);
    if (quarter > announced && quarter < 4) { announced = quarter; say(`Downloading: ${quarter * 25}% done.`); }
  });
  ui.download.textContent = "Model loaded.";
  say("The model is ready.");
}

async function generate(event) {
  event.preventDefault();
  if (running) return;
  const chosen = settings();
  if (!Number.isInteger(chosen.seed) || chosen.seed < 0 || chosen.seed > 4294967295) {
    say("The seed must be a whole number from 0 to 4294967295.");
    ui.seed.focus();
    return;
  }
  running = true;
  ui.go.disabled = true;
  ui.step.disabled = true;
  ui.word.disabled = true;
  try {
    await ensureModel();
    ui.progress.hidden = false;
    ui.progress.value = 0;
    say(`Drawing "${chosen.prompt}" in ${chosen.steps} steps…`);
    const tokens = model.tokens(chosen.prompt);
    fillWords(tokens);
    run = { records: [], settings: chosen, tokens };
    ui.step.max = String(chosen.steps);
    let announced = 0;
    const result = await model.generate({
      ...chosen,
      onStep: async (record) => {
        run.records.push(record);
        if (ui.preview) ui.preview.hidden = true;
        ui.step.value = String(record.step);
        showStep(run.records.length - 1);
        ui.progress.value = record.step / record.steps;
        const quarter = Math.floor((4 * record.step) / record.steps);
        if (quarter > announced && record.step < record.steps) { announced = quarter; say(`Step ${record.step} of ${record.steps}.`); }
        // Let the browser paint this step before the next one starts.
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      },
    });
    run.picture = result.picture;
    run.seconds = result.seconds;
    ui.step.disabled = false;
    ui.word.disabled = false;
    say(`Finished: ${chosen.steps} steps in ${result.seconds.toFixed(1)} seconds. Use the step slider to go back through the run.`);
    document.body.dataset.playState = "done";
  } catch (error) {
    say(`Something went wrong: ${error.message}`);
    document.body.dataset.playState = "error";
    console.error(error);
  } finally {
    running = false;
    ui.go.disabled = false;
    ui.progress.hidden = true;
  }
}

// ---------------------------------------------------------------- start

async function start() {
  if (typeof WebAssembly !== "object" || typeof DecompressionStream !== "function") {
    ui.unsupported.textContent = "Your browser cannot run the model here (it needs WebAssembly and " +
      "DecompressionStream, which current versions of Chrome, Edge, Firefox and Safari have). " +
      "The picture above shows what you would see.";
    ui.unsupported.hidden = false;
    return;
  }
  ui.app.hidden = false;
  showSliderValues();
  say("Reading mini-sd's vocabulary…");
  try {
    model = await MiniSD.create();
  } catch (error) {
    say(`The page could not load mini-sd: ${error.message}`);
    document.body.dataset.playState = "error";
    console.error(error);
    return;
  }
  const defaults = model.description.defaults;
  ui.prompt.value = defaults.prompt;
  ui.seed.value = defaults.seed;
  ui.steps.value = defaults.steps;
  ui.guidance.value = defaults.guidance;
  showSliderValues();
  showTokens();
  const words = model.description.known_words;
  ui.known.textContent = `${words.length} words: ${words.join(", ")}. Its captions all have the form ` +
    "\"a (colour) (shape) on a (colour) background\".";
  ui.download.textContent = `The first time, this downloads ${megabytes(model.downloadBytes)}.`;
  say("Ready. Type a prompt and press Draw it.");
  document.body.dataset.playState = "ready";
}

ui.prompt.addEventListener("input", showTokens);
ui.steps.addEventListener("input", showSliderValues);
ui.guidance.addEventListener("input", showSliderValues);
ui.newSeed.addEventListener("click", () => {
  ui.seed.value = String(crypto.getRandomValues(new Uint32Array(1))[0]);
});
ui.form.addEventListener("submit", generate);
ui.step.addEventListener("input", () => { if (run && run.records.length) showStep(Number(ui.step.value) - 1); });
ui.word.addEventListener("change", () => { if (run && run.records.length) showStep(Number(ui.step.value) - 1); });

// For the tests and the benchmark: the model, once loaded, and the last run.
window.play = { get model() { return model; }, get run() { return run; } };
start();
