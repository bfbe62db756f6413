// The page's behaviour: upload, poll, show, lock, re-allocate, download.
// Everything talks to this server's JSON API; nothing is fetched elsewhere.
// Text from the data is always set as text, never as markup.
"use strict";

(function () {
  const t = JSON.parse(document.getElementById("labels").textContent);
  const $ = (id) => document.getElementById(id);
  const NORWEGIAN = document.documentElement.lang !== "en";

  // A value of the solution's files in words: an id stays an id (scripts
  // read it), the page shows the word the catalogue gives for it.
  function word(prefix, value) {
    if (value === null || value === undefined || value === "") return "–";
    return t[prefix + value] || value;
  }

  // "Live Eide (a0007)" for an id with a name, else the id.
  function named(kind, id) {
    if (!id) return "";
    const name = state.names[kind] && state.names[kind][id];
    return name ? `${name} (${id})` : id;
  }

  function counted(n, one, many) {
    return `${number(n, 0)} ${n === 1 ? one : many}`;
  }
  // Rows drawn at a time: a page of the users table (8,000 users are 80
  // pages, each quick to draw and to tab through).
  const PAGE_SIZE = 100;
  const state = {
    jobId: null,
    job: null,
    timer: null,
    users: { columns: [], rows: [] },
    // Names by id (advisors, teams, municipalities) from the server.
    names: { advisors: {}, teams: {}, municipalities: {} },
    sort: { column: null, direction: 1 },
    page: 0,
    // The locks the next re-allocation will use: user -> [{kind, advisor}].
    locks: new Map(),
    carried: new Set(),
  };

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function number(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return Number(value).toLocaleString(NORWEGIAN ? "nb-NO" : "en-GB", {
      maximumFractionDigits: digits,
    });
  }

  // -- upload -----------------------------------------------------------------

  const input = $("files");
  const drop = $("drop");

  function listFiles(problems) {
    const list = $("file-list");
    clear(list);
    const files = Array.from(input.files);
    if (!files.length) {
      list.appendChild(el("li", t.none_selected));
    }
    const byFile = new Map();
    for (const problem of problems || []) {
      if (!byFile.has(problem.file)) byFile.set(problem.file, []);
      byFile.get(problem.file).push(problem);
    }
    const shown = new Set();
    for (const file of files) {
      const item = el("li", null, { "data-file": file.name });
      item.appendChild(el("span", file.name, { class: "file-name" }));
      if (byFile.has(file.name)) {
        item.appendChild(problemList(byFile.get(file.name)));
        shown.add(file.name);
      }
      list.appendChild(item);
    }
    // Problems inside a zip, or in the optional files, under their own names.
    for (const [file, items] of byFile) {
      if (shown.has(file)) continue;
      const item = el("li", null, { "data-file": file, class: "inner" });
      item.appendChild(el("span", file, { class: "file-name" }));
      item.appendChild(problemList(items));
      list.appendChild(item);
    }
  }

  function problemList(problems) {
    const list = el("ul", null, { class: "problems" });
    for (const p of problems) {
      const where = [];
      if (p.row !== null && p.row !== undefined) where.push(`${t.row} ${p.row}`);
      if (p.column) where.push(`${t.column} ${p.column}`);
      const text = (where.length ? where.join(", ") + ": " : "") + p.message;
      list.appendChild(el("li", text, { class: "problem" }));
    }
    return list;
  }

  input.addEventListener("change", () => listFiles([]));
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      listFiles([]);
    }
  });

  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = $("upload-message");
    clear(message);
    const form = new FormData();
    for (const file of input.files) form.append("files", file, file.name);
    for (const name of ["previous", "scenario"]) {
      const chosen = $(name).files[0];
      if (chosen) form.append(name, chosen, chosen.name);
    }
    for (const name of ["time_limit", "seed"]) {
      if ($(name).value) form.append(name, $(name).value);
    }
    // The report, the workbook and the reasons in the page's language.
    form.append("lang", document.documentElement.lang);
    $("allocate").disabled = true;
    try {
      const answer = await fetch("/api/jobs", { method: "POST", body: form });
      const body = await answer.json();
      if (answer.status === 202) {
        listFiles([]);
        startJob(body.id);
      } else {
        message.appendChild(el("p", t.rejected));
        listFiles(body.errors || [{ file: "upload", message: body.detail || answer.statusText }]);
      }
    } catch (error) {
      message.appendChild(el("p", t.error_network));
    } finally {
      $("allocate").disabled = false;
    }
  });

  // -- a job ------------------------------------------------------------------

  function startJob(id) {
    state.jobId = id;
    state.job = null;
    $("progress-section").hidden = false;
    $("results-section").hidden = true;
    $("downloads-section").hidden = true;
    clear($("job-error"));
    $("stop").disabled = false;
    $("job-line").textContent = `${t.status}: ${t.status_queued}`;
    // Focus stays on the status line while the job runs (a screen reader
    // hears its changes; the button pressed may be gone or disabled).
    $("job-line").focus();
    if (state.timer) clearTimeout(state.timer);
    poll();
  }

  async function poll() {
    const id = state.jobId;
    let job;
    try {
      const answer = await fetch(`/api/jobs/${id}`);
      job = await answer.json();
    } catch (error) {
      $("status").textContent = t.error_network;
      state.timer = setTimeout(poll, 2000);
      return;
    }
    if (id !== state.jobId) return;
    showProgress(job);
    if (["done", "stopped", "failed"].includes(job.status)) {
      $("stop").disabled = true;
      if (job.status === "failed") showFailure(job);
      else await showResults(job);
      return;
    }
    state.timer = setTimeout(poll, 500);
  }

  function showProgress(job) {
    $("status").textContent = word("status_", job.status);
    $("status").setAttribute("data-status", job.status);
    const p = job.progress || {};
    $("elapsed").textContent = p.elapsed_s === null || p.elapsed_s === undefined ? "–" : `${number(p.elapsed_s, 1)} s`;
    $("job-line").textContent = `${t.status}: ${word("status_", job.status)}` +
      (p.elapsed_s === null || p.elapsed_s === undefined ? "" : ` (${$("elapsed").textContent})`);
    $("objective").textContent = number(p.objective, 2);
    $("bound").textContent = number(p.bound, 2);
    $("gap").textContent = p.gap === null || p.gap === undefined ? "–" : `${number(p.gap * 100, 2)} %`;
  }

  function showFailure(job) {
    const box = $("job-error");
    clear(box);
    box.appendChild(el("p", `${t.failed}: ${job.error || ""}`));
    if (job.errors && job.errors.length) {
      const byFile = new Map();
      for (const p of job.errors) {
        if (!byFile.has(p.file)) byFile.set(p.file, []);
        byFile.get(p.file).push(p);
      }
      const list = el("ul", null, { class: "file-list" });
      for (const [file, items] of byFile) {
        const item = el("li", null, { "data-file": file });
        item.appendChild(el("span", file, { class: "file-name" }));
        item.appendChild(problemList(items));
        list.appendChild(item);
      }
      box.appendChild(list);
    }
  }

  $("stop").addEventListener("click", async () => {
    if (!state.jobId) return;
    $("stop").disabled = true;
    await fetch(`/api/jobs/${state.jobId}`, { method: "DELETE" });
  });

  // -- results ----------------------------------------------------------------

  async function rows(name) {
    const answer = await fetch(`/api/jobs/${state.jobId}/rows/${encodeURIComponent(name)}`);
    return answer.json();
  }

  async function pageFacts(id) {
    try {
      const answer = await fetch(`/api/jobs/${id}/page`);
      if (answer.ok) return answer.json();
    } catch (error) {
      // Ids alone, then.
    }
    return { advisors: {}, teams: {}, municipalities: {}, previous: null };
  }

  async function showResults(job) {
    state.job = job;
    const summary = job.summary || {};
    const kpis = summary.kpis || {};
    const changes = summary.changes || {};
    const dl = $("summary");
    clear(dl);
    const facts = await pageFacts(job.id);
    state.names = facts;
    const figures = [
      [t.status, word("status_", job.status)],
      [t.placed, number(kpis.assigned, 0)],
      [t.unplaced, number(kpis.unassigned, 0)],
      [t.urgent_unplaced, number(kpis.urgent_unassigned, 0)],
      [t.moves, number(changes.moved, 0)],
      [t.objective, number(summary.objective, 2)],
      [t.gap, summary.gap === null || summary.gap === undefined ? "–" : `${number(summary.gap * 100, 2)} %`],
      [t.stopped_by, word("stop_", summary.stopped_by)],
    ];
    for (const [label, value] of figures) {
      dl.appendChild(el("dt", label));
      dl.appendChild(el("dd", value));
    }
    // What was read from last week's plan: users in it, locks from it (a
    // re-allocation's plan is the allocation before it, not last week's).
    const plan = $("plan-read");
    plan.hidden = !facts.previous || Boolean(job.parent);
    if (!plan.hidden) {
      const planned = (kpis.users || 0) - (changes.arrived || 0) + (changes.left || 0);
      plan.textContent = `${t.plan_read}: ${counted(planned, t.n_user, t.n_users)}, ` +
        counted(facts.previous.locks, t.n_lock, t.n_locks);
    }
    const warnings = $("warnings");
    clear(warnings);
    if (job.warnings && job.warnings.length) {
      warnings.appendChild(el("h4", t.warnings));
      const list = el("ul");
      for (const w of job.warnings) list.appendChild(el("li", w));
      warnings.appendChild(list);
    }
    const base = `/api/jobs/${job.id}/files/`;
    const hasReport = job.files.includes("report.html");
    $("report-block").hidden = !hasReport;
    $("report-details").open = false;
    $("report-frame").removeAttribute("src");
    if (hasReport) {
      $("report-link").href = `${base}report.html?inline=true`;
    }
    const downloads = $("downloads");
    clear(downloads);
    for (const name of job.files) {
      const item = el("li");
      item.appendChild(el("a", name, { href: base + encodeURIComponent(name), download: name }));
      downloads.appendChild(item);
    }
    state.locks = new Map();
    state.carried = new Set();
    for (const lock of job.locks || []) {
      if (!state.locks.has(lock.user)) state.locks.set(lock.user, []);
      state.locks.get(lock.user).push({ kind: lock.kind, advisor: lock.advisor });
      state.carried.add(lock.user);
    }
    state.users = job.files.includes("assignments.csv") ? await rows("assignments.csv") : { columns: [], rows: [] };
    state.page = 0;
    renderUsers();
    renderLocks();
    renderChanges(job.files.includes("changes.csv") ? await rows("changes.csv") : null);
    $("results-section").hidden = false;
    $("downloads-section").hidden = false;
    $("results-heading").focus();
  }

  const USER_COLUMNS = ["user", "municipality", "team", "advisor", "status", "reason"];

  // A user's row as the page shows it: names beside ids, words for values.
  function shownRow(row, index) {
    const [user, municipality, team, advisor, status, reason] = index.map((i) => (i >= 0 ? row[i] : ""));
    return {
      user,
      advisor,
      status,
      cells: [
        user,
        state.names.municipalities[municipality] || municipality,
        state.names.teams[team] || team,
        named("advisors", advisor),
        word("user_", status),
        reason || "–",
      ],
    };
  }

  function matchingRows() {
    const columns = state.users.columns;
    const index = USER_COLUMNS.map((name) => columns.indexOf(name));
    const needle = $("filter").value.trim().toLowerCase();
    const status = $("status-filter").value;
    const shown = state.users.rows.map((row) => shownRow(row, index));
    const matching = shown.filter(
      (row) =>
        (!status || row.status === status) &&
        (!needle || row.cells.some((cell) => String(cell).toLowerCase().includes(needle))),
    );
    const column = USER_COLUMNS.indexOf(state.sort.column);
    if (column >= 0) {
      const collator = new Intl.Collator(NORWEGIAN ? "nb" : "en", { numeric: true, sensitivity: "base" });
      matching.sort((a, b) => state.sort.direction * collator.compare(a.cells[column], b.cells[column]));
    }
    return matching;
  }

  function renderUsers() {
    const body = document.querySelector("#users tbody");
    clear(body);
    const matching = matchingRows();
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const first = state.page * PAGE_SIZE;
    const drawn = matching.slice(first, first + PAGE_SIZE);
    for (const row of drawn) {
      const tr = el("tr", null, { "data-user": row.user, "data-advisor": row.advisor || "", "data-status": row.status });
      row.cells.forEach((value, position) => {
        if (position === 0) tr.appendChild(el("th", value, { scope: "row" }));
        else tr.appendChild(el("td", value, position === 5 ? { class: "reason" } : {}));
      });
      tr.appendChild(lockCell(row.user, row.advisor));
      body.appendChild(tr);
    }
    const range = drawn.length ? `${number(first + 1, 0)}–${number(first + drawn.length, 0)}` : "0";
    $("showing").textContent = `${t.showing} ${range} ${t.of} ${number(matching.length, 0)}`;
    $("page-number").textContent = `${t.page} ${number(state.page + 1, 0)} ${t.of} ${number(pages, 0)}`;
    $("page-previous").disabled = state.page === 0;
    $("page-next").disabled = state.page >= pages - 1;
  }

  function lockCell(user, advisor) {
    const cell = el("td", null, { class: "lock-cell" });
    const locks = state.locks.get(user) || [];
    for (const lock of locks) {
      cell.appendChild(el("span", `${t["locked_" + lock.kind]} ${named("advisors", lock.advisor)}`, { class: `lock ${lock.kind}` }));
    }
    if (locks.length) {
      cell.appendChild(button(t.unlock, `${t.unlock} ${user}`, () => setLocks(user, [])));
    } else if (advisor) {
      const who = named("advisors", advisor);
      cell.appendChild(button(t.fix, `${t.fix}: ${user} – ${who}`, () => setLocks(user, [{ kind: "fix", advisor }])));
      cell.appendChild(button(t.forbid, `${t.forbid}: ${user} – ${who}`, () => setLocks(user, [{ kind: "forbid", advisor }])));
    }
    return cell;
  }

  function button(text, label, action) {
    const node = el("button", text, { type: "button", "aria-label": label });
    node.addEventListener("click", action);
    return node;
  }

  function setLocks(user, locks) {
    if (locks.length) state.locks.set(user, locks);
    else state.locks.delete(user);
    const row = document.querySelector(`#users tr[data-user="${CSS.escape(user)}"]`);
    if (row) {
      const fresh = lockCell(user, row.getAttribute("data-advisor"));
      row.replaceChild(fresh, row.lastChild);
      const focusable = fresh.querySelector("button");
      if (focusable) focusable.focus();
    }
    renderLocks();
  }

  function renderLocks() {
    const list = $("locks");
    clear(list);
    for (const [user, locks] of state.locks) {
      for (const lock of locks) {
        list.appendChild(el("li", `${user}: ${t["locked_" + lock.kind]} ${named("advisors", lock.advisor)}`));
      }
    }
    if (!list.children.length) list.appendChild(el("li", t.nothing));
  }

  // changes.csv's cells in words: a change's kind, names beside ids, yes/no.
  function changeCell(column, value) {
    if (value === "") return "–";
    if (column === "kind") return word("change_", value);
    if (column === "from" || column === "to") return named("advisors", value);
    if (column === "from_team" || column === "to_team") return state.names.teams[value] || value;
    if (value === "true" || value === "false") return t[value];
    return value;
  }

  function renderChanges(table) {
    const node = $("changes");
    clear(node);
    if (!table || !table.rows.length) {
      const caption = el("caption", t.no_changes);
      node.appendChild(caption);
      return;
    }
    const head = el("thead");
    const tr = el("tr");
    for (const name of table.columns) tr.appendChild(el("th", t["column_" + name] || t[name] || name, { scope: "col" }));
    head.appendChild(tr);
    node.appendChild(head);
    const body = el("tbody");
    for (const row of table.rows) {
      const line = el("tr");
      row.forEach((value, position) => line.appendChild(el("td", changeCell(table.columns[position], value))));
      body.appendChild(line);
    }
    node.appendChild(body);
  }

  function again() {
    state.page = 0;
    renderUsers();
  }

  $("filter").addEventListener("input", again);
  $("status-filter").addEventListener("change", again);
  // Enter in the filter goes straight to the first match's lock buttons,
  // so no leader tabs through hundreds of rows to lock one user.
  $("filter").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = document.querySelector("#users tbody button");
    if (first) first.focus();
  });
  for (const th of document.querySelectorAll("#users th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const column = th.getAttribute("data-sort");
      state.sort = { column, direction: state.sort.column === column ? -state.sort.direction : 1 };
      for (const other of document.querySelectorAll("#users th[data-sort]")) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", state.sort.direction > 0 ? "ascending" : "descending");
      again();
    });
  }
  $("page-previous").addEventListener("click", () => {
    state.page = Math.max(0, state.page - 1);
    renderUsers();
  });
  $("page-next").addEventListener("click", () => {
    state.page += 1;
    renderUsers();
  });

  // The report is loaded only when asked for: it is large, and a page in a
  // frame can scroll the page around it while it loads.
  $("report-details").addEventListener("toggle", () => {
    if ($("report-details").open && state.job && !$("report-frame").getAttribute("src")) {
      $("report-frame").src = $("report-link").href;
    }
  });

  $("reallocate").addEventListener("click", async () => {
    if (!state.job) return;
    const fix = [];
    const forbid = [];
    for (const [user, locks] of state.locks) {
      for (const lock of locks) (lock.kind === "fix" ? fix : forbid).push({ user, advisor: lock.advisor });
    }
    const request = { fix, forbid, unlock: Array.from(state.carried) };
    const message = $("job-error");
    clear(message);
    $("reallocate").disabled = true;
    try {
      const answer = await fetch(`/api/jobs/${state.job.id}/locks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      const body = await answer.json();
      if (answer.status === 202) {
        startJob(body.id);
      } else {
        message.appendChild(el("p", t.rejected));
        message.appendChild(problemList(body.errors || [{ message: JSON.stringify(body.detail) }]));
        $("progress-section").hidden = false;
      }
    } finally {
      $("reallocate").disabled = false;
    }
  });
})();
