// The logs page (/): every log, grouped by lineage; running ones update in place.
"use strict";

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
