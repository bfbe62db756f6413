// The comparison step: send the instance and scenarios, follow the progress,
// show comparison.html and offer its files. Talks only to this server.
"use strict";

(function () {
  const form = document.getElementById("compare-form");
  const message = document.getElementById("cmp-message");
  const progressSection = document.getElementById("cmp-progress-section");
  const resultSection = document.getElementById("cmp-result-section");
  const statusField = document.getElementById("cmp-status");
  const bar = document.getElementById("cmp-bar");
  // Every word the script shows, in the page's language (labels.py).
  const t = JSON.parse(document.getElementById("labels").textContent);
  const statusWord = (status) => t["status_" + status] || status;
  let current = null;
  let timer = null;
  // /compare?job=<id> uses the instance of that earlier allocation.
  const given = new URLSearchParams(window.location.search).get("job");
  if (given) document.getElementById("cmp-job").value = given;

  function problems(list) {
    return list.map((p) => {
      // A form field by its label; an uploaded file by its name.
      const where = [t["field_" + p.file] || p.file, p.row ? t.row + " " + p.row : null, p.column ? t.column + " " + p.column : null]
        .filter(Boolean).join(", ");
      return where + ": " + p.message;
    });
  }

  function show(element, lines) {
    element.textContent = "";
    lines.forEach((line) => {
      const item = document.createElement("p");
      item.textContent = line;
      element.appendChild(item);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(message, []);
    const data = new FormData(form);
    // Empty file fields would send empty parts; leave them out.
    ["files", "scenarios"].forEach((name) => {
      const kept = data.getAll(name).filter((f) => f && f.name);
      data.delete(name);
      kept.forEach((f) => data.append(name, f));
    });
    let answer, body;
    try {
      answer = await fetch("/api/comparisons", { method: "POST", body: data });
      body = await answer.json();
    } catch (error) {
      show(message, [t.error_network]);
      return;
    }
    if (answer.status !== 202) {
      show(message, [t.rejected].concat(problems(body.errors || [])));
      return;
    }
    current = body.id;
    resultSection.hidden = true;
    progressSection.hidden = false;
    document.getElementById("cmp-stop").disabled = false;
    poll();
  });

  document.getElementById("cmp-stop").addEventListener("click", async () => {
    if (!current) return;
    document.getElementById("cmp-stop").disabled = true;
    await fetch("/api/comparisons/" + current, { method: "DELETE" });
  });

  async function poll() {
    clearTimeout(timer);
    const answer = await fetch("/api/comparisons/" + current);
    const job = await answer.json();
    statusField.textContent = statusWord(job.status);
    statusField.dataset.status = job.status;
    const p = job.progress || {};
    bar.value = p.fraction || 0;
    document.getElementById("cmp-done").textContent =
      p.structures ? p.structures_done + " " + t.of + " " + p.structures : "";
    document.getElementById("cmp-elapsed").textContent =
      p.elapsed_s != null ? p.elapsed_s.toLocaleString(document.documentElement.lang) + " s" : "";
    if (job.status === "failed") {
      show(document.getElementById("cmp-error"), [job.error || t.status_failed].concat(problems(job.errors || [])));
      return;
    }
    if (job.status === "done") {
      finished(job);
      return;
    }
    if (job.status === "stopped") {
      show(document.getElementById("cmp-error"), [t.status_stopped]);
      return;
    }
    timer = setTimeout(poll, 700);
  }

  function finished(job) {
    const base = "/api/comparisons/" + job.id;
    const warnings = document.getElementById("cmp-warnings");
    warnings.textContent = "";
    job.warnings.forEach((text) => {
      const item = document.createElement("li");
      item.textContent = t.warning + ": " + text;
      warnings.appendChild(item);
    });
    const downloads = document.getElementById("cmp-downloads");
    downloads.textContent = "";
    job.files.concat(["archive"]).forEach((name) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = name === "archive" ? base + "/archive" : base + "/files/" + encodeURIComponent(name);
      link.textContent = name === "archive" ? t.archive : name;
      link.setAttribute("download", "");
      item.appendChild(link);
      downloads.appendChild(item);
    });
    document.getElementById("cmp-frame").src = base + "/files/comparison.html?inline=true";
    resultSection.hidden = false;
    document.getElementById("cmp-result-heading").focus();
  }
})();
