// evalkit view: picks the page from the address and shows it (loaded last).
"use strict";

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
