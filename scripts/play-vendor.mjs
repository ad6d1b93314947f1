// Copy what the Play page loads from npm's node_modules/ into docs/play/vendor/ (ignored by git),
// so that the site serves it itself: ONNX Runtime Web's WebAssembly build (gzip-compressed here;
// the page unpacks it) and its JavaScript, and tokenizers.js. Run by `make play-deps` after `npm ci`.
// runtime.json lists the files and their sizes; VERSIONS.txt, written last, marks the copy as complete.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const vendor = path.join(root, "docs", "play", "vendor");
const modules = path.join(root, "node_modules");
const packages = ["onnxruntime-web", "@huggingface/tokenizers"];
const copies = [
  ["onnxruntime-web/dist/ort.wasm.bundle.min.mjs", "ort.wasm.bundle.min.mjs"],
  ["onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.wasm.gz", "gzip"],
  ["@huggingface/tokenizers/dist/tokenizers.min.mjs", "tokenizers.min.mjs"],
  ["@huggingface/tokenizers/LICENSE", "tokenizers.LICENSE"],
];

for (const name of packages) {
  if (!fs.existsSync(path.join(modules, name, "package.json"))) {
    console.error(`play-deps: ${name} is not in node_modules/; run \`npm ci\` first (make play-deps does).`);
    process.exit(1);
  }
}
fs.rmSync(vendor, { recursive: true, force: true });
fs.mkdirSync(vendor, { recursive: true });
const files = {};
for (const [from, to, how] of copies) {
  const data = fs.readFileSync(path.join(modules, from));
  // Node's gzip header carries no timestamp: the same input gives the same file.
  fs.writeFileSync(path.join(vendor, to), how === "gzip" ? zlib.gzipSync(data, { level: 9 }) : data);
  if (!to.endsWith("LICENSE")) files[to] = fs.statSync(path.join(vendor, to)).size;
}
fs.writeFileSync(path.join(vendor, "runtime.json"), JSON.stringify({ files }, null, 1) + "\n");
const versions = packages.map((name) => {
  const meta = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json")));
  return `${meta.name} ${meta.version} (${meta.license})`;
});
fs.writeFileSync(path.join(vendor, "VERSIONS.txt"), versions.join("\n") + "\n");
const total = Object.values(files).reduce((a, b) => a + b, 0);
console.log(`play-deps: ${versions.join(", ")} copied into docs/play/vendor/ (${(total / 1e6).toFixed(2)} MB)`);
