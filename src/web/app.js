// azlon's web page: plain DOM, no framework, no build step. Everything the model or a program
// wrote is inserted as text (textContent / text nodes), never as markup.
import { ApiError, api, showError, takeTokenFromUrl, token } from "./api.js";
import { $, fill, h, setText, statusBadge, when } from "./dom.js";
import { formatBytes } from "./format.js";
import { costText, tokensText } from "./phases.js";
import { changeView, describeEvent, EVENT_TYPES, roundBody, roundMark } from "./view.js";

const LIVE = new Set(["queued", "running"]);
// ---- the new-run form ----

/** The POST /api/runs body from the form's fields; empty options are left to the server. */
export function runRequest(form) {
  const value = (name) => String(form.elements.namedItem(name)?.value ?? "").trim();
  const checks = value("checks")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const options = {};
  if (value("model")) options.model = value("model");
  if (value("maxIterations")) options.maxIterations = Number(value("maxIterations"));
  if (value("maxCost")) options.maxCost = Number(value("maxCost"));
  if (value("verdict")) options.verdict = value("verdict");
  if (value("checksNeed")) options.checksNeed = value("checksNeed");
  const body = { prompt: value("prompt"), tests: value("tests") };
  if (checks.length) body.checks = checks;
  if (value("from")) body.from = value("from");
  if (Object.keys(options).length) body.options = options;
  return body;
}

function setupForm() {
  const form = /** @type {HTMLFormElement} */ ($("new-run"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("form-error", null);
    const body = runRequest(form);
    const missing = !body.prompt ? "prompt" : !body.tests ? "tests" : null;
    if (missing) {
      showError("form-error", `Say ${missing === "prompt" ? "what to build" : "how to tell that it works"}.`);
      $(missing).focus();
      return;
    }
    const button = /** @type {HTMLButtonElement} */ ($("start"));
    button.disabled = true;
    try {
      const created = await api("/api/runs", { method: "POST", body });
      location.hash = `#/runs/${encodeURIComponent(created.id)}`;
    } catch (error) {
      showError("form-error", error);
      // The server names the field as in the request body: "tests", "options.maxIterations".
      const name = error instanceof ApiError && error.field ? error.field.replace(/^options\./, "") : null;
      const field = name ? form.elements.namedItem(name) : null;
      if (field instanceof HTMLElement) field.focus();
    } finally {
      button.disabled = false;
    }
  });
  // Enter makes a new line in a text box; Ctrl+Enter (Cmd+Enter) starts the run from anywhere in the form.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

/** The server's defaults, said above the options and shown as their placeholders. */
async function loadDefaults() {
  try {
    const d = await api("/api/config");
    setText(
      "server-defaults",
      `Runs ask ${d.model} at ${d.endpoint}, for up to ${d.maxIterations} iterations${d.maxCost ? ` or $${d.maxCost}` : ""}, unless you say otherwise here.`,
    );
    $("model").setAttribute("placeholder", d.model);
    $("maxIterations").setAttribute("placeholder", String(d.maxIterations));
    if (d.maxCost) $("maxCost").setAttribute("placeholder", String(d.maxCost));
    // Only a server started with --projects-root takes a project to start from.
    if (d.projectsRoot) {
      setText("from-hint", `(a folder under ${d.projectsRoot}; it is copied, never written)`);
      $("from-field").hidden = false;
    }
  } catch (error) {
    showError("form-error", error);
  }
}

// ---- the list of runs ----

let runsTimer = null;

async function loadRuns() {
  try {
    const { runs, total } = await api("/api/runs?limit=50");
    fill(
      "runs-body",
      runs.map((run) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, run.id)),
          h("td", {}, statusBadge(run.status)),
          h("td", {}, `${run.iterations} of ${run.maxIterations}${run.phase ? ` · ${run.phase}` : ""}`),
          h("td", {}, costText(run.costUsd, { short: true })),
          h("td", {}, when(run.updatedAt)),
          h("td", {}, run.prompt),
        ),
      ),
    );
    setText("runs-note", runs.length ? `${runs.length} of ${total}` : "no runs yet");
    showError("global-error", null);
  } catch (error) {
    showError("global-error", error);
  }
}

function watchRuns(on) {
  clearInterval(runsTimer);
  runsTimer = on ? setInterval(loadRuns, 3000) : null;
  if (on) loadRuns();
}

// ---- one run: facts, rounds (with their diffs), files, live progress ----

// The run on screen: its events stream, last detail, finished rounds by number, rounds the user opened or closed.
let current = null;

function closeRun() {
  if (!current) return;
  current.source?.close();
  clearTimeout(current.timer);
  current = null;
}

function renderFacts(run) {
  const rows = [
    ["stop reason", run.stopReason ?? "—"],
    ["iterations", `${run.iterations} of ${run.maxIterations}`],
    ["now", run.phase ? `round ${run.progress?.iteration ?? "?"}: ${run.phase}` : "—"],
    ["model", run.model],
    ["verdict by", run.verdict],
    ["image", run.image ?? "—"],
    ["tokens", tokensText(run.usage)],
    ["cost", costText(run.costUsd)],
    ["started", when(run.createdAt)],
    ["last active", when(run.updatedAt)],
  ];
  fill(
    "run-facts",
    rows.flatMap(([key, value]) => [h("dt", {}, key), h("dd", {}, value ?? "—")]),
  );
}

/** Fetches one round into its box; a round that cannot change any more is kept for redraws. */
async function loadRound(n, box, final) {
  box.dataset.loaded = "1";
  try {
    const detail = await api(`/api/runs/${encodeURIComponent(current.id)}/iterations/${n}`);
    if (final) current?.rounds.set(n, detail);
    box.replaceChildren(box.firstChild, ...roundBody(detail).flat().filter(Boolean));
  } catch (error) {
    // A round that has recorded nothing yet is not an error: the next update fills it.
    const note = error instanceof ApiError && error.status === 404 ? "nothing recorded yet" : error.message;
    box.replaceChildren(box.firstChild, h("p", { class: error.status === 404 ? "muted" : "bad" }, note));
  }
}

function roundBox(s, isLast, live) {
  const n = s.iteration;
  const mark = roundMark(s);
  // Open as the user left it; else only the latest round.
  const box = h(
    "details",
    { "data-round": n, open: current.opened.get(n) ?? isLast },
    h("summary", {}, h("span", { class: "round-head" }, `Round ${n} `, mark)),
  );
  // An earlier round is done; the latest is done once the run is.
  const final = !isLast || !live;
  const cached = current.rounds.get(n);
  if (cached) {
    box.append(...roundBody(cached).flat().filter(Boolean));
    box.dataset.loaded = "1";
  }
  box.addEventListener("toggle", () => {
    current?.opened.set(n, box.open);
    if (box.open && !box.dataset.loaded) loadRound(n, box, final);
  });
  if (box.open && !cached) loadRound(n, box, final);
  return box;
}

function renderRounds(run) {
  const summaries = run.iterationSummaries ?? [];
  const last = summaries.at(-1)?.iteration;
  fill(
    "run-rounds",
    summaries.length
      ? summaries.map((s) => roundBox(s, s.iteration === last, LIVE.has(run.status)))
      : [h("p", { class: "muted" }, "no rounds yet")],
  );
}

function fileBox(id, file, open) {
  const box = h(
    "details",
    { "data-path": file.path, open },
    h("summary", { class: "mono" }, `${file.path} `, h("span", { class: "muted" }, formatBytes(file.bytes))),
  );
  const load = async () => {
    if (!box.open || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    const path = file.path.split("/").map(encodeURIComponent).join("/");
    try {
      box.append(
        h("pre", {}, await api(`/api/runs/${encodeURIComponent(id)}/files/${path}`, { text: true })),
      );
    } catch (error) {
      box.append(h("p", { class: "bad" }, error.message));
    }
  };
  box.addEventListener("toggle", load);
  if (open) load();
  return box;
}

/** The workspace's files; redrawn only when they changed, keeping the ones the user opened open. */
async function loadFiles() {
  const id = current.id;
  try {
    const { files } = await api(`/api/runs/${encodeURIComponent(id)}/files`);
    const shape = JSON.stringify(files);
    if (current?.id !== id || current.filesShape === shape) return;
    current.filesShape = shape;
    const opened = new Set([...$("run-files").querySelectorAll("details[open]")].map((d) => d.dataset.path));
    fill(
      "run-files",
      files.length
        ? files.map((file) => fileBox(id, file, opened.has(file.path)))
        : [h("p", { class: "muted" }, "no files yet")],
    );
  } catch (error) {
    showError("run-error", error);
  }
}

async function loadRun() {
  if (!current) return;
  const id = current.id;
  try {
    const run = await api(`/api/runs/${encodeURIComponent(id)}`);
    if (current?.id !== id) return;
    current.detail = run;
    const badge = $("run-status");
    badge.className = `status ${run.status}`;
    badge.textContent = run.status;
    setText("run-reason", run.reason);
    // Only what can be done now is offered: cancel while it goes, resume once it stopped short.
    $("cancel-run").hidden = !LIVE.has(run.status);
    $("resume-box").hidden = run.status === "passed" || LIVE.has(run.status);
    const more = /** @type {HTMLInputElement} */ ($("resume-iterations"));
    if (!more.value || document.activeElement !== more) more.value = String(run.maxIterations + 2);
    if (!LIVE.has(run.status)) setText("run-live", "");
    renderFacts(run);
    setText("run-prompt", run.prompt);
    setText("run-tests", run.tests);
    fill(
      "run-checks",
      run.checks?.length
        ? [
            h("h3", {}, "Checks"),
            h(
              "ul",
              {},
              run.checks.map((c) => h("li", { class: "mono" }, c)),
            ),
          ]
        : [],
    );
    fill("run-change", ...changeView(run.change));
    renderRounds(run);
    loadFiles();
    showError("run-error", null);
  } catch (error) {
    showError("run-error", error);
  }
}

/** Reloads the run after a burst of events, not once per event. */
function reloadSoon() {
  if (!current) return;
  clearTimeout(current.timer);
  current.timer = setTimeout(loadRun, 300);
}

function followEvents(id) {
  const query = token() ? `?token=${encodeURIComponent(token() ?? "")}` : "";
  const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events${query}`);
  current.source = source;
  const log = $("run-events");
  let lines = 0;
  const onEvent = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    lines++;
    log.append(h("span", { class: "event-line" }, describeEvent(event)));
    // Bounded: a long run keeps the last 500 lines.
    while (log.childNodes.length > 500) log.firstChild?.remove();
    setText("run-events-count", `(${lines})`);
    if (event.type === "phase") setText("run-live", `round ${event.iteration}: ${event.phase}…`);
    if (event.type !== "model.http" && event.type !== "phase") reloadSoon();
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("end", () => {
    source.close();
    setText("run-live", "");
    reloadSoon();
  });
  source.onopen = () => setText("connection", "");
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setText("connection", "live updates stopped");
  };
}

function openRun(id) {
  if (current?.id === id) return;
  closeRun();
  current = { id, source: null, detail: null, rounds: new Map(), opened: new Map(), timer: null };
  setText("run-id", id);
  fill("run-rounds");
  fill("run-change");
  fill("run-files");
  fill("run-events");
  setText("run-events-count", "");
  for (const field of ["run-reason", "run-live", "run-prompt", "run-tests"]) setText(field, "");
  loadRun();
  followEvents(id);
}

function setupRunButtons() {
  $("cancel-run").addEventListener("click", async () => {
    try {
      await api(`/api/runs/${encodeURIComponent(current.id)}/cancel`, { method: "POST", body: {} });
      reloadSoon();
    } catch (error) {
      showError("run-error", error);
    }
  });
  $("resume-run").addEventListener("click", async () => {
    const n = Number(/** @type {HTMLInputElement} */ ($("resume-iterations")).value);
    const id = current.id;
    try {
      await api(`/api/runs/${encodeURIComponent(id)}/resume`, {
        method: "POST",
        body: n > 0 ? { options: { maxIterations: n } } : {},
      });
      // Follow the new leg's events from where the journal stands.
      closeRun();
      openRun(id);
    } catch (error) {
      showError("run-error", error);
    }
  });
}

// ---- the prompt templates ----

let loadedPrompts = {};

async function loadPrompts() {
  showError("prompts-error", null);
  setText("prompts-note", "");
  try {
    const { templates, placeholders } = await api("/api/prompts");
    loadedPrompts = Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, t.text]));
    fill(
      "prompts-fields",
      Object.entries(templates).map(([name, t]) =>
        h(
          "div",
          {},
          h(
            "label",
            { for: `prompt-${name}` },
            `${name} `,
            h(
              "span",
              { class: "hint" },
              `from ${t.source}; placeholders: ${(placeholders?.[name] ?? []).map((p) => `{{${p}}}`).join(" ")}`,
            ),
          ),
          h("textarea", { id: `prompt-${name}`, name, class: "mono", spellcheck: "false" }, t.text),
        ),
      ),
    );
  } catch (error) {
    showError("prompts-error", error);
  }
}

function setupPrompts() {
  $("prompts-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("prompts-error", null);
    setText("prompts-note", "");
    const changed = {};
    for (const area of $("prompts-fields").querySelectorAll("textarea")) {
      if (area.value !== loadedPrompts[area.name]) changed[area.name] = area.value;
    }
    if (!Object.keys(changed).length) {
      setText("prompts-note", "Nothing changed.");
      return;
    }
    try {
      await api("/api/prompts", { method: "PUT", body: { templates: changed } });
      await loadPrompts();
      setText("prompts-note", `Saved: ${Object.keys(changed).join(", ")}.`);
    } catch (error) {
      showError("prompts-error", error);
      // "templates.<name>": the template the server refused.
      const name = error instanceof ApiError ? /^templates\.(\w+)$/.exec(error.field ?? "")?.[1] : null;
      if (name) document.getElementById(`prompt-${name}`)?.focus();
    }
  });
}

// ---- routing: #/ (new run and the list), #/runs, #/runs/<id>, #/prompts ----

function route() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/")) return; // the skip link, or another in-page anchor
  const run = /^#\/runs\/(.+)$/.exec(hash);
  const page = run ? "run" : hash === "#/prompts" ? "prompts" : hash === "#/runs" ? "runs" : "home";
  $("view-home").hidden = page !== "home";
  $("view-runs").hidden = page !== "home" && page !== "runs";
  $("view-run").hidden = page !== "run";
  $("view-prompts").hidden = page !== "prompts";
  watchRuns(page === "home" || page === "runs");
  if (run) openRun(decodeURIComponent(run[1] ?? ""));
  else closeRun();
  if (page === "prompts") loadPrompts();
  document.title = page === "run" ? `azlon — ${decodeURIComponent(run?.[1] ?? "")}` : "azlon";
}

function start() {
  takeTokenFromUrl();
  setupForm();
  loadDefaults();
  setupRunButtons();
  setupPrompts();
  $("refresh-runs").addEventListener("click", loadRuns);
  // The skip link moves focus to the content without changing the route.
  $("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("main").focus();
  });
  window.addEventListener("hashchange", route);
  route();
}

if (typeof document !== "undefined" && document.getElementById("main")) start();
