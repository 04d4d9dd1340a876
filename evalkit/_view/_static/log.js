// The log page (/logs/<name>): header, results, and the sample table.
"use strict";

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
