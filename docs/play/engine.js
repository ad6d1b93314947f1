// mini-sd in the browser: the tokenizer, the text encoder, the denoising loop with
// classifier-free guidance and DDIM, and the decoder. No page elements here: play.js
// draws the page, the tests and the benchmark call this module directly.
//
// Every file comes from this site: the model from ./model/ (written by `make play-model`),
// ONNX Runtime Web and tokenizers.js from ./vendor/ (copied from npm by `make play-deps`).

import * as ort from "./vendor/ort.wasm.bundle.min.mjs";
import { Tokenizer } from "./vendor/tokenizers.min.mjs";

const HERE = new URL(".", import.meta.url);
const MODEL = new URL("model/", HERE);
const VENDOR = new URL("vendor/", HERE);
const NETWORKS = ["text_encoder", "unet", "vae_decoder"];
const RUNTIME_WASM = "ort-wasm-simd-threaded.wasm.gz";

// ---------------------------------------------------------------- files

// Fetch a file of this site; files ending in .gz are unpacked with the browser's own
// DecompressionStream (unless the server already did, which the first two bytes tell).
async function fetchBytes(url, progress) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`could not load ${url.pathname} (HTTP ${response.status}); the page needs the files that ` +
      "`make play-model` and `make play-deps` put under docs/play/");
  }
  if (progress) progress.start(Number(response.headers.get("Content-Length")) || 0);
  const reader = response.body.getReader();
  const parts = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    length += value.length;
    if (progress) progress.add(value.length);
  }
  let bytes = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) { bytes.set(part, offset); offset += part.length; }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return bytes;
}

// ---------------------------------------------------------------- starting noise

// The page's seed -> starting noise. torch's CPU generator cannot be reproduced here, so
// the Play page has its own: PCG32 (O'Neill 2014, XSH-RR, 64-bit state) random integers,
// turned into Gaussian numbers by the Box-Muller transform. figgen/minisd/play.py has the
// same function in Python (play_noise), which the tests compare with this one.
const MASK64 = (1n << 64n) - 1n;
const PCG_MULTIPLIER = 6364136223846793005n;
const PCG_STREAM = 1442695040888963407n;

class Pcg32 {
  constructor(seed) {
    this.increment = PCG_STREAM | 1n;
    this.state = 0n;
    this.next();
    this.state = (this.state + (BigInt(seed) & MASK64)) & MASK64;
    this.next();
  }

  next() {
    const old = this.state;
    this.state = (old * PCG_MULTIPLIER + this.increment) & MASK64;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rotation = Number(old >> 59n);
    return ((xorshifted >>> rotation) | (xorshifted << ((32 - rotation) & 31))) >>> 0;
  }
}

export function playNoise(seed, count) {
  if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295) {
    throw new RangeError(`seed ${seed}: seeds are whole numbers from 0 to 4294967295`);
  }
  const generator = new Pcg32(seed);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = (generator.next() + 0.5) / 4294967296;
    const v = (generator.next() + 0.5) / 4294967296;
    const radius = Math.sqrt(-2 * Math.log(u));
    values[i] = radius * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) values[i + 1] = radius * Math.sin(2 * Math.PI * v);
  }
  return values;
}

// ---------------------------------------------------------------- the DDIM scheduler

const f32 = Math.fround;

// numpy's round(): halves go to the even neighbour.
function roundHalfEven(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

// ᾱ_t for t = 0..T-1, from the model's scheduler config, as diffusers computes it in float32.
export function alphasCumprod(config) {
  const count = config.num_train_timesteps;
  if (config.trained_betas) throw new Error("mini-sd's scheduler config lists its own betas; the Play page does not read those");
  let start, end, square;
  if (config.beta_schedule === "scaled_linear") {
    [start, end, square] = [f32(Math.sqrt(config.beta_start)), f32(Math.sqrt(config.beta_end)), true];
  } else if (config.beta_schedule === "linear") {
    [start, end, square] = [f32(config.beta_start), f32(config.beta_end), false];
  } else {
    throw new Error(`beta_schedule "${config.beta_schedule}" is not one the Play page knows (linear, scaled_linear)`);
  }
  const step = f32((end - start) / (count - 1));
  const result = new Float32Array(count);
  let product = 1;
  for (let i = 0; i < count; i++) {
    // torch.linspace in float32: from the start for the first half, from the end for the second.
    const value = i < count / 2 ? f32(start + f32(step * i)) : f32(end - f32(step * (count - 1 - i)));
    const beta = square ? f32(value * value) : value;
    product = f32(product * f32(1 - beta));
    result[i] = product;
  }
  return result;
}

// The timesteps DDIM visits for `steps` steps, as diffusers' DDIMScheduler.set_timesteps.
export function ddimTimesteps(config, steps) {
  const count = config.num_train_timesteps;
  if (!(steps >= 1 && steps <= count)) throw new RangeError(`steps must be 1 to ${count}`);
  const spacing = config.timestep_spacing || "leading";
  const list = [];
  if (spacing === "leading") {
    const ratio = Math.floor(count / steps);
    for (let i = steps - 1; i >= 0; i--) list.push(i * ratio + (config.steps_offset || 0));
  } else if (spacing === "trailing") {
    const ratio = count / steps; // np.arange(count, 0, -ratio): ceil(count / ratio) values
    for (let i = 0; i < Math.ceil(count / ratio); i++) list.push(roundHalfEven(count - i * ratio) - 1);
  } else if (spacing === "linspace") {
    for (let i = steps - 1; i >= 0; i--) list.push(roundHalfEven((i * (count - 1)) / Math.max(1, steps - 1)));
  } else {
    throw new Error(`timestep_spacing "${spacing}" is not one the Play page knows`);
  }
  return list;
}

// One DDIM step with eta 0 and no clipping, as figgen makes DDIM from the shipped config.
// Returns the predicted clean latent x0 and the latent for the next step.
export function ddimStep(schedule, config, steps, t, latents, noise) {
  const previous = t - Math.floor(config.num_train_timesteps / steps);
  const alpha = schedule[t];
  const alphaPrevious = previous >= 0 ? schedule[previous] : (config.set_alpha_to_one ? 1 : schedule[0]);
  const sqrtBeta = f32(Math.sqrt(f32(1 - alpha)));
  const sqrtAlpha = f32(Math.sqrt(alpha));
  const sqrtAlphaPrevious = f32(Math.sqrt(alphaPrevious));
  const sqrtBetaPrevious = f32(Math.sqrt(f32(1 - alphaPrevious)));
  const x0 = new Float32Array(latents.length);
  const next = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) {
    x0[i] = f32(f32(latents[i] - f32(sqrtBeta * noise[i])) / sqrtAlpha);
    next[i] = f32(f32(sqrtAlphaPrevious * x0[i]) + f32(sqrtBetaPrevious * noise[i]));
  }
  return { x0, next };
}

// ---------------------------------------------------------------- the model

export class MiniSD {
  // Read the model's description and its tokenizer (half a megabyte); the networks come later,
  // with loadNetworks(), so that the page can show tokens before the big download.
  static async create() {
    const [description, runtime, tokenizerJson, tokenizerConfig] = await Promise.all([
      fetchBytes(new URL("play.json", MODEL)),
      fetchBytes(new URL("runtime.json", VENDOR)),
      fetchBytes(new URL("tokenizer.json.gz", MODEL)),
      fetchBytes(new URL("tokenizer_config.json", MODEL)),
    ].map((bytes) => bytes.then((b) => JSON.parse(new TextDecoder().decode(b)))));
    return new MiniSD(description, runtime, new Tokenizer(tokenizerJson, tokenizerConfig));
  }

  // Bytes still to download for loadNetworks(): the three networks and the runtime.
  get downloadBytes() {
    const networks = NETWORKS.map((name) => this.description.files[`${name}.onnx.gz`]);
    return [...networks, ...Object.values(this.runtime.files)].reduce((a, b) => a + b, 0);
  }

  // Load the runtime and the three networks, once. onProgress(loaded, total) counts bytes.
  async loadNetworks(onProgress = () => {}) {
    if (!this.loading) this.loading = this.#loadNetworks(onProgress);
    return this.loading;
  }

  async #loadNetworks(onProgress) {
    let loaded = 0;
    const total = this.downloadBytes;
    const progress = { start: () => {}, add: (n) => { loaded += n; onProgress(Math.min(loaded, total), total); } };
    // One thread: threads need cross-origin isolation, which a static host such as GitHub Pages
    // cannot switch on. The WebAssembly comes from this site, never from a CDN: the page fetches
    // it and hands it over (wasmBinary); this bundle carries its own loader, so it needs no other file.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    const [wasm, ...models] = await Promise.all([
      fetchBytes(new URL(RUNTIME_WASM, VENDOR), progress),
      ...NETWORKS.map((name) => fetchBytes(new URL(`${name}.onnx.gz`, MODEL), progress)),
    ]);
    ort.env.wasm.wasmBinary = wasm;
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    [this.textEncoder, this.unet, this.decoder] = [
      await ort.InferenceSession.create(models[0], options),
      await ort.InferenceSession.create(models[1], options),
      await ort.InferenceSession.create(models[2], options),
    ];
    // A first run of each network, while loading: the runtime sets up its memory and kernels on
    // the first call, which would otherwise slow the reader's first picture.
    const embeddings = await this.encode("");
    const latents = new Float32Array(2 * this.latentSize);
    await this.unet.run({
      latents: new ort.Tensor("float32", latents, [2, ...this.latentShape]),
      timestep: new ort.Tensor("int64", BigInt64Array.of(1n), [1]),
      text_embeddings: embeddings,
    });
    await this.decode(latents, 2);
  }

  constructor(description, runtime, tokenizer) {
    Object.assign(this, { description, runtime, tokenizer });
    this.config = description.scheduler_config;
    this.schedule = alphasCumprod(this.config);
    this.latentShape = description.latent_shape;
    this.latentSize = this.latentShape.reduce((a, b) => a * b, 1);
    this.size = description.picture_size;
    this.maxTokens = description.max_tokens;
    const special = new Set([this.tokenizer.encode("").ids].flat());
    this.knownIds = new Set();
    for (const word of description.known_words) {
      for (const id of this.tokenizer.encode(word).ids) if (!special.has(id)) this.knownIds.add(id);
    }
  }

  // The prompt as the text encoder reads it: start, the word pieces, end, then padding to 77
  // (the padding token is the end token), cut to 77 as diffusers' pipeline cuts it.
  tokens(prompt) {
    const encoded = this.tokenizer.encode(prompt);
    let ids = encoded.ids;
    let cut = 0;
    if (ids.length > this.maxTokens) {
      cut = ids.length - this.maxTokens;
      ids = ids.slice(0, this.maxTokens - 1).concat(ids[ids.length - 1]);
    }
    const used = ids.length;
    const padding = this.tokenizer.encode("").ids.at(-1);
    while (ids.length < this.maxTokens) ids = ids.concat(padding);
    const pieces = ids.map((id, index) => ({
      id,
      text: index === 0 ? "start" : index === used - 1 ? "end" : index >= used ? "pad" : this.tokenizer.decode([id]).trim(),
      kind: index === 0 || index === used - 1 ? "special" : index >= used ? "pad" : this.knownIds.has(id) ? "known" : "unknown",
    }));
    return { ids, pieces, used, cut };
  }

  async encode(prompt) {
    const ids = BigInt64Array.from([...this.tokens("").ids, ...this.tokens(prompt).ids], BigInt);
    const input = new ort.Tensor("int64", ids, [2, this.maxTokens]);
    return (await this.textEncoder.run({ input_ids: input })).text_embeddings;
  }

  // Pictures of latents (n latents, back to back) as RGBA bytes, one Uint8ClampedArray each.
  async decode(latents, n) {
    const output = await this.decoder.run({ latents: new ort.Tensor("float32", latents, [n, ...this.latentShape]) });
    const data = output.pictures.data;
    const area = this.size * this.size;
    const pictures = [];
    for (let k = 0; k < n; k++) {
      const rgba = new Uint8ClampedArray(area * 4);
      for (let c = 0; c < 3; c++) {
        const base = (k * 3 + c) * area;
        for (let p = 0; p < area; p++) rgba[p * 4 + c] = Math.round(data[base + p] * 255);
      }
      for (let p = 0; p < area; p++) rgba[p * 4 + 3] = 255;
      pictures.push(rgba);
    }
    return pictures;
  }

  // Run the whole generation. onStep(record) is called after every step with the step's
  // number, timestep, pictures of x_t and of the predicted x0, and the cross-attention maps.
  // `decodeEvery` false skips the per-step pictures (the benchmark's plain run).
  async generate({ prompt, seed, steps, guidance, onStep = () => {}, decodeEvery = true, shouldStop = () => false }) {
    await this.loadNetworks();
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= 50)) throw new RangeError("steps must be a whole number from 1 to 50");
    if (!(guidance >= 1 && guidance <= 15)) throw new RangeError("guidance must be from 1 to 15");
    const started = performance.now();
    const embeddings = await this.encode(prompt);
    const timesteps = ddimTimesteps(this.config, steps);
    let latents = playNoise(seed, this.latentSize); // DDIM's starting noise scale (init_noise_sigma) is 1
    const n = this.latentSize;
    const g = f32(guidance);
    const records = [];
    for (let index = 0; index < timesteps.length; index++) {
      if (shouldStop()) return null;
      const t = timesteps[index];
      const pair = new Float32Array(2 * n);
      pair.set(latents, 0);
      pair.set(latents, n);
      const output = await this.unet.run({
        latents: new ort.Tensor("float32", pair, [2, ...this.latentShape]),
        timestep: new ort.Tensor("int64", BigInt64Array.of(BigInt(t)), [1]),
        text_embeddings: embeddings,
      });
      // Classifier-free guidance: the empty prompt's prediction, pushed towards the prompt's.
      const both = output.noise.data;
      const noise = new Float32Array(n);
      for (let i = 0; i < n; i++) noise[i] = f32(both[i] + f32(g * f32(both[n + i] - both[i])));
      const { x0, next } = ddimStep(this.schedule, this.config, steps, t, latents, noise);
      const record = { step: index + 1, steps, timestep: t, latents, x0, attention: output.attention.data };
      if (decodeEvery || index === timesteps.length - 1) {
        const both = new Float32Array(2 * n);
        both.set(latents, 0);
        both.set(x0, n);
        [record.noisyPicture, record.cleanPicture] = await this.decode(both, 2);
      }
      records.push(record);
      await onStep(record);
      latents = next;
    }
    const [picture] = await this.decode(latents, 1);
    return { picture, records, tokens: this.tokens(prompt), seconds: (performance.now() - started) / 1000 };
  }
}
