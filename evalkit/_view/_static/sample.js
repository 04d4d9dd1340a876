// The sample page (/logs/<name>/samples/<id>/<epoch>): one sample's transcript.
"use strict";

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
