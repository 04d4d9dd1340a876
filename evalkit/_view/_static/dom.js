// evalkit view: shared state and helpers of the three pages (loaded first).
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
