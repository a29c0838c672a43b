// Builds dist/azlon: one executable for linux-x64 that needs no Node installed (Node's single
// executable applications). The whole CLI and its dependencies go into one CommonJS file (SEA
// runs only that: no ESM entry, no files from disk), the default prompt templates and the bench
// tasks go in as assets, and the blob is injected into a copy of the node binary running this script.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const work = join(root, "dist/sea");
const out = join(root, "dist/azlon");
const started = performance.now();

if (process.platform !== "linux" || process.arch !== "x64") {
  console.error(
    `build:binary: makes a linux-x64 executable from the running node; this is ${process.platform}-${process.arch}`,
  );
  process.exit(2);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, "chunks"), { recursive: true });
// The same code splitting as the ESM build, with every dependency bundled: the start-up chunk
// stays small, and each command's code is compiled only when that command runs.
const bundle = await build({
  entryPoints: { entry: join(root, "src/cli/entry.ts") },
  outdir: join(work, "esm"),
  write: false,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // ssh2 (under dockerode, for ssh:// engines) tries its optional native addons inside
  // try/catch and falls back to JavaScript; a SEA cannot load addons, so leave them out.
  external: ["cpu-features", "*.node"],
  chunkNames: "chunks/[name]-[hash]",
  define: { __AZLON_VERSION__: JSON.stringify(pkg.version), __AZLON_SEA__: "true" },
  minify: true,
  legalComments: "none",
  logLevel: "error",
});

// SEA runs CommonJS only: each chunk becomes a CommonJS module, its imports require() calls
// that the loader below serves from the executable's assets.
const assets = {};
let entry = "";
for (const file of bundle.outputFiles) {
  const id = relative(join(work, "esm"), file.path).split(sep).join("/");
  const { code } = await transform(file.text, {
    format: "cjs",
    platform: "node",
    target: "node20",
    supported: { "dynamic-import": false },
    minify: true,
    logLevel: "error",
  });
  if (id === "entry.js") entry = code;
  else {
    writeFileSync(join(work, id), code);
    assets[id] = join(work, id);
  }
}
writeFileSync(
  join(work, "azlon.cjs"),
  `"use strict";
const { getAsset } = require("node:sea");
const { compileFunction } = require("node:vm");
const { posix } = require("node:path");
const loaded = new Map();
const { isBuiltin } = require("node:module");
const requireFrom = (dir) => (spec) => {
  if (spec.startsWith(".") && !spec.endsWith(".node")) return load(posix.join(dir, spec));
  if (isBuiltin(spec)) return require(spec);
  // Left out of the bundle (native addons, optional in ssh2): missing, as when not compiled.
  throw Object.assign(new Error("Cannot find module '" + spec + "'"), { code: "MODULE_NOT_FOUND" });
};
function load(id) {
  let module = loaded.get(id);
  if (module) return module.exports;
  module = { exports: {} };
  loaded.set(id, module);
  const params = ["exports", "require", "module", "__filename", "__dirname"];
  const run = compileFunction(getAsset(id, "utf8"), params, { filename: "azlon:" + id });
  run(module.exports, requireFrom(posix.dirname(id)), module, __filename, __dirname);
  // A CommonJS package imported with import() (cosmiconfig) is a chunk whose only export is
  // its module.exports as default; like Node, offer that object's properties as named exports.
  const keys = Object.keys(module.exports);
  const inner = module.exports.default;
  if (keys.length === 1 && keys[0] === "default" && inner && typeof inner === "object") {
    for (const key of Object.keys(inner)) {
      Object.defineProperty(module.exports, key, { get: () => inner[key], enumerable: true });
    }
  }
  return module.exports;
}
(function (exports, require, module) {
${entry}
})({}, requireFrom("."), { exports: {} });
`,
);

const prompts = join(root, "prompts");
for (const file of readdirSync(prompts).filter((f) => f.endsWith(".md"))) assets[file] = join(prompts, file);
// The web page's files (azlon serve serves them, azlon report inlines its style), as web/<name>.
const web = join(root, "src/web");
for (const file of readdirSync(web).filter((f) => /\.(html|js|css|svg|png)$/.test(f))) {
  assets[`web/${file}`] = join(web, file);
}
// The bench task set (azlon bench), as bench/tasks/<path>, with a list of its files: a SEA cannot
// list its own assets on Node 20, and `azlon bench` writes them out into its batch folder.
const benchRoot = join(root, "bench/tasks");
const benchFiles = [];
const walkBench = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walkBench(full);
    else if (entry.isFile()) benchFiles.push(relative(benchRoot, full).split(sep).join("/"));
  }
};
walkBench(benchRoot);
for (const file of benchFiles) assets[`bench/tasks/${file}`] = join(benchRoot, file);
writeFileSync(join(work, "bench-manifest.json"), JSON.stringify(benchFiles.sort()));
assets["bench/manifest.json"] = join(work, "bench-manifest.json");
const config = {
  main: join(work, "azlon.cjs"),
  output: join(work, "azlon.blob"),
  disableExperimentalSEAWarning: true,
  // V8's code for the start-up chunk, compiled at build time. With that chunk small it saves
  // little (within the noise of npm run bench), but it costs nothing either.
  useCodeCache: true,
  assets,
};
writeFileSync(join(work, "sea-config.json"), `${JSON.stringify(config, null, 2)}\n`);
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
if (!readFileSync(process.execPath).includes(FUSE)) {
  console.error(`build:binary: ${process.execPath} was built without single executable support`);
  console.error("  fix: run the build with an official Node 20 build (nodejs.org or NodeSource)");
  process.exit(1);
}
let postject;
try {
  postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
} catch {
  console.error("build:binary: the devDependency postject is not installed");
  console.error("  fix: npm ci (or npm install --save-dev postject)");
  process.exit(1);
}
const blob = spawnSync(process.execPath, ["--experimental-sea-config", join(work, "sea-config.json")], {
  encoding: "utf8",
});
if (blob.status !== 0) {
  process.stderr.write(blob.stdout + blob.stderr);
  console.error("build:binary: node could not make the SEA blob");
  process.exit(1);
}

rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
// postject (a devDependency) injects the blob. Run apart: its ELF library prints harmless
// warnings about note sections on every build, shown only if the injection fails.
const injected = spawnSync(
  process.execPath,
  [postject, out, "NODE_SEA_BLOB", config.output, "--sentinel-fuse", FUSE],
  { encoding: "utf8" },
);
if (injected.status !== 0) {
  process.stderr.write(injected.stdout + injected.stderr);
  console.error("build:binary: postject could not inject the blob into dist/azlon");
  process.exit(1);
}
const mb = (statSync(out).size / 1024 / 1024).toFixed(1);
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`build:binary: wrote dist/azlon (${mb} MiB, linux-x64, node ${process.version}) in ${secs} s`);
