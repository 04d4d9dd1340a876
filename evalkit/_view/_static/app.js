// evalkit view: three pages over the JSON API of evalkit/_view/_app.py.
// Log content is hostile input: every value reaches the page as a text node
// (h() below); nothing is ever assigned to innerHTML.
"use strict";

const app = document.getElementById("app");
const LOG_SUFFIX = ".jsonl.zst";
let config = { poll_seconds: 2, page_size: 100, log_dir: "" };
let pollTimer = null;

// ---- DOM helpers -----------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replaces node's children; arrays are flattened, null/false (nothing to show) skipped.
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((child) => child));
}

function show(...nodes) {
  fill(app, ...nodes);
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function number(value, digits) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return text(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits ?? 3);
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(1)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${Math.floor(value / 3600)} h ${Math.round((value % 3600) / 60)} min`;
}

function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toLocaleString();
}

function cost(value) {
  return value === null || value === undefined ? "–" : `$${value.toFixed(4)}`;
}

function badge(status, running) {
  const label = status === "started" ? (running ? "running" : "interrupted") : status;
  return h("span", { class: `badge ${label}` }, label);
}

function problem(message) {
  return message ? h("div", { class: "problem", role: "alert" }, message) : null;
}

// A two-column table of an object's fields; fields with no value are left out.
function keyValues(object) {
  const present = ([, value]) => value !== null && value !== undefined && value !== "" &&
    !(Array.isArray(value) && !value.length);
  const rows = Object.entries(object || {}).filter(present).map(([key, value]) =>
    h("tr", {}, h("th", {}, key),
      h("td", {}, typeof value === "object" && value !== null
        ? h("pre", {}, pretty(value)) : text(value))));
  return rows.length ? h("table", { class: "kv" }, h("tbody", {}, rows)) : h("p", { class: "muted" }, "none");
}

function section(title, ...body) {
  return h("section", { class: "card" }, h("h2", {}, title), ...body);
}

function collapsible(title, body, open) {
  return h("details", { open: !!open }, h("summary", {}, title), body);
}

function logHref(name) {
  return "/logs/" + name.split("/").map(encodeURIComponent).join("/");
}

function sampleHref(name, id, epoch) {
  return `${logHref(name)}/samples/${encodeURIComponent(String(id))}/${epoch}`;
}

function apiPath(name) {
  return "/api" + logHref(name);
}

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    throw new Error(`${path}: the server's answer is not JSON (${response.status})`);
  }
  if (!response.ok) throw new Error(body && body.error ? body.error : `${path}: ${response.status}`);
  return body;
}

function stamp() {
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

// Calls refresh() every poll_seconds for as long as it returns true.
function poll(refresh) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    let again = true;
    try {
      again = await refresh();
    } catch (error) {
      document.getElementById("updated").textContent = `cannot reach the server: ${error.message}`;
    }
    if (again) poll(refresh);
  }, config.poll_seconds * 1000);
}

// ---- logs page ---------------------------------------------------------------

const progressSeen = new Map(); // log name -> first {time, done} seen while it ran

function eta(row) {
  const written = row.counts.done + row.counts.errored + row.counts.cancelled;
  const now = Date.now() / 1000;
  const first = progressSeen.get(row.name);
  if (!first) progressSeen.set(row.name, { time: now, written });
  let rate = null;
  if (first && written > first.written && now > first.time) {
    rate = (written - first.written) / (now - first.time);
  } else {
    const started = Date.parse(row.created) / 1000;
    if (written > 0 && now > started) rate = written / (now - started);
  }
  const left = Math.max(0, row.total - written);
  return rate ? seconds(left / rate) : "–";
}

function progressCell(row) {
  const written = row.counts.done + row.counts.errored + row.counts.cancelled;
  const share = row.total ? Math.min(100, (100 * written) / row.total) : 0;
  const parts = [h("span", { class: "count" }, `${row.counts.done}/${row.total}`)];
  if (row.status === "started" && row.running) {
    parts.push(h("progress", { max: 100, value: share.toFixed(1) }),
      h("span", { class: "eta" }, `ETA ${eta(row)}`));
  }
  return h("td", { class: "progress" }, parts);
}

function metricsText(row) {
  return row.metrics.map((m) => `${m.scorer}/${m.metric} ${number(m.value)}`).join(", ") || "–";
}

function logRow(row) {
  return h("tr", { "data-log": row.name, class: row.problem ? "bad" : null },
    h("td", { class: "created" }, when(row.created)),
    h("td", {}, row.task || "?"),
    h("td", {}, row.model || "?"),
    h("td", { class: "status" }, badge(row.status, row.running)),
    progressCell(row),
    h("td", { class: row.counts.errored ? "num errored" : "num" }, row.counts.errored),
    h("td", { class: "num" }, row.counts.limited),
    h("td", { class: "num" }, row.counts.cancelled),
    h("td", {}, metricsText(row)),
    h("td", { class: "num" }, cost(row.cost)),
    h("td", {}, h("a", { href: logHref(row.name) }, row.name),
      row.problem ? h("div", { class: "problem small" }, row.problem) : null));
}

function lineages(rows) {
  const groups = new Map();
  for (const row of rows) {
    const key = row.task_id || `unreadable:${row.name}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  const newest = (group) => group.reduce((a, r) => (r.created > a ? r.created : a), "");
  for (const group of groups.values()) group.sort((a, b) => (b.created > a.created ? 1 : -1));
  return [...groups.entries()].sort((a, b) => (newest(b[1]) > newest(a[1]) ? 1 : -1));
}

function logsTable(group) {
  const head = ["created", "task", "model", "status", "samples done/total", "errored",
    "limited", "cancelled", "metrics", "cost", "log"];
  return h("table", { class: "grid logs" },
    h("thead", {}, h("tr", {}, head.map((title) => h("th", {}, title)))),
    h("tbody", {}, group.map(logRow)));
}

async function logsPage() {
  document.title = "evalkit view: logs";
  const data = await getJSON("/api/logs");
  stamp();
  if (!data.logs.length) {
    show(h("h1", {}, "Logs"), h("p", { class: "muted" }, `No logs in ${data.log_dir} yet. `,
      "Run an eval with --log-dir pointing here; it appears by itself."));
    return true;
  }
  show(h("h1", {}, "Logs"),
    lineages(data.logs).map(([taskId, group]) => h("section", { class: "lineage", "data-task-id": taskId },
      h("h2", {}, group[0].task || group[0].name,
        h("span", { class: "muted" }, ` lineage ${taskId.slice(0, 12)} · ${group.length} run${group.length > 1 ? "s" : ""}`)),
      logsTable(group))));
  return true;
}

// ---- log page ----------------------------------------------------------------

function tableState() {
  const params = new URLSearchParams(location.search);
  return {
    outcome: params.get("outcome") || "all",
    score: params.get("score") || "",
    sort: params.get("sort") || "",
    desc: params.get("desc") === "1",
    page: Math.max(0, parseInt(params.get("page") || "0", 10) || 0),
  };
}

function setTableState(state) {
  const params = new URLSearchParams();
  if (state.outcome !== "all") params.set("outcome", state.outcome);
  if (state.score) params.set("score", state.score);
  if (state.sort) params.set("sort", state.sort);
  if (state.desc) params.set("desc", "1");
  if (state.page) params.set("page", String(state.page));
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? `?${query}` : ""));
}

function resultsSection(detail) {
  const o = detail.overview;
  const counts = h("table", { class: "kv" }, h("tbody", {},
    [["samples (× epochs)", o.total], ["completed", o.counts.done], ["errored", o.counts.errored],
      ["limited", o.counts.limited], ["cancelled", o.counts.cancelled]]
      .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { "data-count": k }, v)))));
  const scores = (detail.results && detail.results.scores) || [];
  const metrics = scores.length
    ? h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, h("th", {}, "scorer"), h("th", {}, "metric"), h("th", {}, "value"), h("th", {}, "scored samples"))),
      h("tbody", {}, scores.flatMap((score) => Object.values(score.metrics).map((metric) =>
        h("tr", {}, h("td", {}, score.name), h("td", {}, metric.name), h("td", { class: "num" }, number(metric.value)),
          h("td", { class: "num" }, score.scored_samples))))))
    : h("p", { class: "muted" }, o.status === "started" ? "Metrics come when the run ends." : "No metrics.");
  return section("Results", h("div", { class: "split" }, counts, metrics));
}

function statsSection(detail) {
  const stats = detail.stats || {};
  const o = detail.overview;
  let duration = null;
  if (stats.started_at && stats.completed_at) {
    duration = (Date.parse(stats.completed_at) - Date.parse(stats.started_at)) / 1000;
  }
  return section("Run", keyValues({
    "created": when(o.created), "started": when(stats.started_at),
    "completed": when(stats.completed_at), "duration": seconds(duration),
    "cost": cost(stats.cost), "pricing": stats.pricing_source || "–",
    "run id": o.run_id, "retry of": o.retry_of || "–", "lineage (task id)": o.task_id,
  }), stats.model_usage && Object.keys(stats.model_usage).length
    ? collapsible("usage per model", keyValues(stats.model_usage), false) : null);
}

function headerSection(spec) {
  if (!spec) return section("Header", problem("The header could not be read."));
  const dataset = { ...spec.dataset };
  if (Array.isArray(dataset.sample_ids)) dataset.sample_ids = `${dataset.sample_ids.length} ids`;
  return section("Header",
    keyValues({ task: spec.task, "task file": spec.task_file, "registered name": spec.task_registry_name,
      model: spec.model, "model base url": spec.model_base_url }),
    collapsible("task args", keyValues(spec.task_args), true),
    collapsible("model args", keyValues(spec.model_args), false),
    collapsible("generate config", keyValues(spec.generate_config), false),
    collapsible("eval config", keyValues(spec.config), false),
    collapsible("dataset", keyValues(dataset), false),
    collapsible("replay metadata", keyValues(spec.replay), false),
    Object.keys(spec.metadata || {}).length ? collapsible("metadata", keyValues(spec.metadata), false) : null);
}

function errorBlock(error, title) {
  if (!error) return null;
  return h("div", { class: "error-block" },
    h("div", { class: "error-title" }, title || "Error",
      error.phase ? h("span", { class: "badge errored" }, `phase ${error.phase}`) : null,
      error.kind ? h("span", { class: "badge" }, error.kind) : null),
    h("pre", { class: "message" }, error.message || ""),
    error.traceback ? collapsible("traceback", h("pre", {}, error.traceback), true) : null);
}

function scoreText(scores) {
  if (!scores) return "–";
  return Object.entries(scores).map(([name, value]) => `${name}: ${text(value)}`).join(", ");
}

function outcomeCell(row) {
  if (row.outcome === "errored") {
    return h("td", { class: "outcome errored" }, h("span", { class: "badge errored" }, row.phase || "error"), " ", row.error);
  }
  return h("td", { class: `outcome ${row.outcome}` }, row.outcome === "ok" ? "ok" : h("span", { class: `badge ${row.outcome}` }, row.outcome));
}

function sampleRow(name, row) {
  return h("tr", { "data-sample": `${row.id}/${row.epoch}` },
    h("td", {}, h("a", { href: sampleHref(name, row.id, row.epoch) }, text(row.id))),
    h("td", { class: "num" }, row.epoch),
    h("td", {}, scoreText(row.scores)),
    outcomeCell(row),
    h("td", {}, row.limit || "–"),
    h("td", { class: "num" }, row.tokens),
    h("td", { class: "num" }, seconds(row.time)),
    h("td", { class: "num" }, row.attempts));
}

async function sampleTable(name, holder) {
  const state = tableState();
  const params = new URLSearchParams({ offset: String(state.page * config.page_size), limit: String(config.page_size) });
  if (state.outcome !== "all") params.set("outcome", state.outcome);
  if (state.score) params.set("score", state.score);
  if (state.sort) params.set("sort", state.sort);
  if (state.desc) params.set("desc", "1");
  const page = await getJSON(`${apiPath(name)}/samples?${params}`);
  const rerender = (change) => {
    setTableState({ ...tableState(), ...change });
    // A first sort or filter of a big log reads every sample: say so while it does.
    for (const range of holder.querySelectorAll(".range")) range.textContent = "reading the samples…";
    sampleTable(name, holder).catch((error) => fill(holder, problem(error.message)));
  };
  const columns = [["id", "id"], ["epoch", "epoch"], ["score", "score"], ["outcome", "outcome / error"],
    [null, "limit"], ["tokens", "tokens"], ["time", "time"], [null, "attempts"]];
  const head = columns.map(([key, title]) => {
    if (!key) return h("th", {}, title);
    const arrow = state.sort === key ? (state.desc ? " ▼" : " ▲") : "";
    return h("th", { class: "sortable", "data-sort": key, onclick: () =>
      rerender({ sort: key, desc: state.sort === key ? !state.desc : false, page: 0 }) }, title + arrow);
  });
  const outcome = h("select", { name: "outcome", onchange: (e) => rerender({ outcome: e.target.value, page: 0 }) },
    ["all", "errored", "limited", "cancelled", "ok"].map((value) =>
      h("option", { value, selected: value === state.outcome }, value === "all" ? "all samples" : `${value} only`)));
  const score = h("input", { name: "score", placeholder: "score, e.g. C or 1", value: state.score,
    onchange: (e) => rerender({ score: e.target.value.trim(), page: 0 }) });
  const first = page.total ? state.page * config.page_size + 1 : 0;
  const last = state.page * config.page_size + page.rows.length;
  const pages = Math.max(1, Math.ceil(page.total / config.page_size));
  const pager = h("div", { class: "pager" },
    h("button", { disabled: state.page === 0, onclick: () => rerender({ page: state.page - 1 }) }, "‹ previous"),
    h("span", { class: "range" }, `${first}–${last} of ${page.total} · page ${state.page + 1} of ${pages}`),
    h("button", { disabled: last >= page.total, onclick: () => rerender({ page: state.page + 1 }) }, "next ›"));
  fill(holder, 
    h("div", { class: "controls" }, h("label", {}, "show ", outcome), h("label", {}, "score = ", score), pager),
    problem(page.problem),
    h("table", { class: "grid samples" }, h("thead", {}, h("tr", {}, head)),
      h("tbody", {}, page.rows.length ? page.rows.map((row) => sampleRow(name, row))
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "No samples match.")))));
}

async function logPage(name) {
  document.title = `evalkit view: ${name}`;
  const detail = await getJSON(apiPath(name));
  stamp();
  const o = detail.overview;
  const spec = detail.eval;
  const holder = h("div", { id: "samples" }, h("p", { class: "muted" }, "Loading samples…"));
  show(
    h("nav", { class: "crumbs" }, h("a", { href: "/" }, "logs"), " / ", name),
    h("h1", {}, spec ? `${spec.task} · ${spec.model}` : name, " ", badge(o.status, o.running)),
    problem(detail.problem),
    errorBlock(detail.error, "The eval failed"),
    h("div", { class: "columns" }, resultsSection(detail), statsSection(detail)),
    headerSection(spec),
    section("Samples", holder));
  await sampleTable(name, holder);
  return o.status === "started" && o.running;
}

// ---- sample page -------------------------------------------------------------

function content(value) {
  return h("pre", { class: "content" }, pretty(value));
}

// A tool call as the model wrote it: function(arguments), on one line when short.
function callNode(fn, args) {
  const oneLine = JSON.stringify(args);
  const shown = oneLine.length <= 80 ? oneLine : JSON.stringify(args, null, 2);
  return h("div", { class: "tool-call" }, h("span", { class: "fn" }, `${fn}(`), h("pre", {}, shown),
    h("span", { class: "fn" }, ")"));
}

function toolCalls(calls) {
  if (!calls || !calls.length) return null;
  return h("div", { class: "tool-calls" }, calls.map((call) =>
    h("div", {}, callNode(call.function, call.arguments),
      call.parse_error ? h("div", { class: "problem small" }, `arguments did not parse: ${call.parse_error}`) : null,
      h("span", { class: "muted small" }, ` id ${call.id}`))));
}

function message(m) {
  const role = m.role.charAt(0).toUpperCase() + m.role.slice(1);
  const label = m.role === "tool" && m.function ? `${role}: ${m.function}` : role;
  return h("div", { class: `message ${m.role}`, "data-role": m.role },
    h("div", { class: "role" }, label, m.tool_call_id ? h("span", { class: "muted small" }, ` for ${m.tool_call_id}`) : null),
    m.content !== "" ? content(m.content) : null,
    toolCalls(m.tool_calls),
    m.error ? h("div", { class: "problem small" }, `tool error: ${m.error}`) : null);
}

function eventNode(event, start) {
  const at = event.timestamp && start ? `+${(event.timestamp - start).toFixed(2)} s` : "";
  const head = h("div", { class: "event-head" }, h("span", { class: `badge ${event.event}` }, event.event), " ", at);
  let body;
  if (event.event === "model") {
    body = [keyValues({ model: event.model, "input messages": event.input_messages, latency: seconds(event.latency),
      usage: event.usage, retries: event.retries && event.retries.length ? event.retries : null, error: event.error }),
    event.output !== null && event.output !== undefined ? collapsible("output", content(event.output), true) : null,
    event.raw ? collapsible(`raw output${event.truncated ? " (truncated)" : ""}`, content(event.raw), false) : null];
  } else if (event.event === "tool") {
    body = [callNode(event.function, event.arguments),
    event.result !== null && event.result !== undefined ? collapsible("result", content(event.result), true) : null,
    event.error ? h("div", { class: "problem small" }, event.error) : null,
    h("span", { class: "muted small" }, `took ${seconds(event.duration)}`)];
  } else {
    const rest = { ...event };
    delete rest.event;
    delete rest.timestamp;
    body = keyValues(rest);
  }
  return h("div", { class: `event ${event.event}` }, head, body);
}

function scoresSection(scores) {
  if (!scores || !Object.keys(scores).length) return section("Scores", h("p", { class: "muted" }, "Not scored."));
  return section("Scores", h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["scorer", "value", "answer", "explanation"].map((t) => h("th", {}, t)))),
    h("tbody", {}, Object.entries(scores).map(([name, score]) =>
      h("tr", {}, h("td", {}, name), h("td", { class: "score-value" }, text(score.value)), h("td", {}, text(score.answer)),
        h("td", {}, h("pre", { class: "content" }, text(score.explanation))))))));
}

function outcomeSection(s) {
  const usage = Object.entries(s.model_usage || {}).map(([model, u]) => `${model}: ${u.input_tokens} in, ${u.output_tokens} out`);
  return section("Outcome",
    keyValues({ outcome: s.cancelled ? "cancelled" : s.error ? "errored" : s.limit ? "limit reached" : "completed",
      limit: s.limit ? `${s.limit.type} limit of ${s.limit.limit} reached` : "–",
      attempts: s.attempts, time: seconds(s.total_time), usage: usage.join("; ") || "–" }),
    errorBlock(s.error),
    (s.error_history || []).length ? collapsible(`error history (${s.error_history.length} earlier attempt${s.error_history.length > 1 ? "s" : ""})`,
      h("div", {}, s.error_history.map((e, i) => errorBlock(e, `attempt ${i + 1}`))), true) : null);
}

async function samplePage(name, id, epoch) {
  document.title = `evalkit view: sample ${id} epoch ${epoch}`;
  const path = `${apiPath(name)}/samples/${encodeURIComponent(id)}/${epoch}`;
  const s = await getJSON(path);
  stamp();
  const events = s.events || [];
  const start = events.length ? events[0].timestamp : null;
  show(
    h("nav", { class: "crumbs" }, h("a", { href: "/" }, "logs"), " / ", h("a", { href: logHref(name) }, name), " / ",
      `sample ${text(s.id)}, epoch ${s.epoch}`),
    h("h1", {}, `Sample ${text(s.id)} · epoch ${s.epoch}`),
    h("div", { class: "columns" }, outcomeSection(s), scoresSection(s.scores)),
    section("Input and target", h("h3", {}, "input"), content(s.input), h("h3", {}, "target"), content(s.target)),
    section(`Messages (${(s.messages || []).length})`, h("div", { class: "transcript" }, (s.messages || []).map(message))),
    s.output ? section("Output", keyValues({ model: s.output.model, "stop reason": (s.output.choices || [])[0]?.stop_reason, usage: s.output.usage }),
      content((s.output.choices || [])[0]?.message?.content ?? "")) : null,
    section(`Events (${events.length})`, h("div", { class: "events" }, events.map((e) => eventNode(e, start)))),
    Object.keys(s.metadata || {}).length ? section("Metadata", keyValues(s.metadata)) : null);
}

// ---- routing -------------------------------------------------------------------

function route() {
  const path = location.pathname;
  if (path === "/" || path === "") return { page: "logs" };
  if (!path.startsWith("/logs/")) return { page: "missing" };
  const rest = path.slice("/logs/".length);
  const end = rest.indexOf(LOG_SUFFIX);
  if (end < 0) return { page: "missing" };
  const name = rest.slice(0, end + LOG_SUFFIX.length).split("/").map(decodeURIComponent).join("/");
  const tail = rest.slice(end + LOG_SUFFIX.length).split("/").filter(Boolean);
  if (!tail.length) return { page: "log", name };
  if (tail.length === 3 && tail[0] === "samples") {
    return { page: "sample", name, id: decodeURIComponent(tail[1]), epoch: tail[2] };
  }
  return { page: "missing" };
}

async function start() {
  try {
    config = await getJSON("/api/config");
    document.getElementById("where").textContent = config.log_dir;
    const target = route();
    if (target.page === "logs") {
      await logsPage();
      poll(logsPage);
    } else if (target.page === "log") {
      if (await logPage(target.name)) poll(() => logPage(target.name));
    } else if (target.page === "sample") {
      await samplePage(target.name, target.id, target.epoch);
    } else {
      show(problem("No such page."), h("a", { href: "/" }, "all logs"));
    }
  } catch (error) {
    show(problem(error.message), h("a", { href: "/" }, "all logs"));
  }
}

start();
