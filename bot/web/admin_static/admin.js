// Lucia's admin view: plain JS, no build step. The page holds no data; everything is read
// from /admin/api/* with the Clerk session token as a Bearer header (ClerkJS refreshes it).
// Every value is put in the page with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function table(columns, rows, empty) {
    if (!rows.length) return el("p", { class: "empty" }, empty || "Nothing here.");
    return el(
      "table",
      {},
      el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title)))),
      el("tbody", {}, rows.map((row) =>
        el("tr", {}, columns.map(([, cell]) => el("td", {}, cell(row) ?? "—"))))),
    );
  }

  const when = (iso) => (iso ? iso.replace("T", " ").replace(/\..*|\+00:00$/, "") : null);

  class Refused extends Error {}

  async function api(path) {
    const token = await window.Clerk.session.getToken();
    const answer = await fetch(path, {
      headers: { Authorization: `Bearer ${token}` },
      credentials: "omit",
      cache: "no-store",
    });
    if (answer.status === 401 || answer.status === 403) {
      const body = await answer.json().catch(() => ({}));
      throw new Refused(body.detail || `Refused (${answer.status}).`);
    }
    return answer;
  }

  async function read(path) {
    const answer = await api(path);
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.detail || body.error || `HTTP ${answer.status}`);
    return body;
  }

  async function download(path, filename) {
    const answer = await api(path);
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const url = URL.createObjectURL(await answer.blob());
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // --- pages -------------------------------------------------------------------------

  async function incidents(query) {
    const status = query.get("status") === "all" ? "all" : "open";
    const body = await read(`/admin/api/incidents?status=${status}`);
    return [
      el("h1", {}, status === "all" ? "Recent incidents" : "Open incidents"),
      el("p", {}, status === "all"
        ? el("a", { href: "#/incidents" }, "Show open only")
        : el("a", { href: "#/incidents?status=all" }, "Show recent, closed included")),
      table(
        [
          ["Incident", (i) => el("a", { href: `#/incidents/${i.number}`, class: "incident" }, i.key)],
          ["Title", (i) => i.title],
          ["Severity", (i) => el("span", { class: `sev ${i.severity}` }, i.severity)],
          ["Status", (i) => i.status],
          ["Lead", (i) => i.lead_name || i.lead],
          ["Opened", (i) => when(i.created_at)],
          ["Acknowledged", (i) => when(i.acknowledged_at)],
          ["Mitigated", (i) => when(i.mitigated_at)],
          ["Resolved", (i) => when(i.resolved_at)],
        ],
        body.incidents,
        status === "all" ? "No incidents yet." : "No open incidents.",
      ),
    ];
  }

  async function incident(number) {
    const pm = await read(`/admin/api/incidents/${number}`);
    const i = pm.incident;
    const fail = (error) => show(error);
    return [
      el("h1", {}, `${i.key} ${i.title}`),
      el("p", { class: "facts" },
        el("span", { class: `sev ${i.severity}` }, i.severity), ` ${i.status}`,
        ` · lead ${i.lead || "nobody"} · opened by ${i.opened_by}`),
      el("p", {},
        el("button", { id: "download-md", onclick: () => download(
          `/admin/api/incidents/${number}/postmortem.md`, `${i.key}-postmortem.md`).catch(fail) },
          "Download postmortem (Markdown)"), " ",
        el("button", { id: "download-json", onclick: () => download(
          `/admin/api/incidents/${number}/postmortem.json`, `${i.key}-postmortem.json`).catch(fail) },
          "Download postmortem (JSON)")),
      el("h2", {}, "Timeline"),
      table(
        [["At", (e) => e.at], ["Kind", (e) => e.kind], ["Who", (e) => e.actor], ["What", (e) => e.text]],
        pm.timeline, "No events.",
      ),
      el("h2", {}, "Pages"),
      table(
        [
          ["At", (p) => p.at], ["Person", (p) => p.person], ["For", (p) => p.target],
          ["Status", (p) => p.status],
          ["Deliveries", (p) => p.channels.map((c) => `${c.channel} ${c.ok ? "✓" : "✗"} ${c.detail}`).join("; ")],
          ["Acknowledged by", (p) => p.acknowledged_by],
        ],
        pm.pages, "Nobody was paged.",
      ),
      el("h2", {}, "Playbook runs"),
      pm.runs.length ? pm.runs.map((r) => el("section", { class: "run" },
        el("h3", {}, `#${r.id} ${r.playbook} on ${r.service}: ${r.state}`),
        el("p", {}, `Requested by ${r.requested_by}`, r.approved_by ? `, approved by ${r.approved_by}` : "",
          r.result ? ` — ${r.result}` : ""),
        table(
          [["Step", (s) => s.index], ["Kind", (s) => s.kind], ["State", (s) => s.state],
           ["Detail", (s) => s.detail], ["Took", (s) => s.took]],
          r.steps, "No steps.",
        ))) : el("p", { class: "empty" }, "No playbook runs."),
      el("h2", {}, "Follow-ups"),
      table(
        [["#", (f) => f.id], ["What", (f) => f.text], ["Owner", (f) => f.owner],
         ["Done", (f) => (f.done_at ? `${f.done_at} by ${f.done_by}` : "open")]],
        pm.followups, "No follow-ups.",
      ),
    ];
  }

  async function alerts() {
    const body = await read("/admin/api/alerts");
    return [
      el("h1", {}, "Alert groups firing"),
      table(
        [
          ["Alert", (a) => (a.url ? el("a", { href: a.url, rel: "noreferrer" }, a.title) : a.title)],
          ["Level", (a) => a.level], ["Project", (a) => a.project], ["Env", (a) => a.environment],
          ["Count", (a) => a.count], ["First seen", (a) => when(a.first_seen)],
          ["Last seen", (a) => when(a.last_seen)],
          ["Incident", (a) => (a.incident ? el("a", { href: `#/incidents/${a.incident}` }, `INC-${a.incident}`) : null)],
        ],
        body.alerts, "Nothing is firing.",
      ),
    ];
  }

  async function owners() {
    const body = await read("/admin/api/owners");
    const gaps = (list) => (list.length ? el("span", { class: "gap" }, list.join("; ")) : "none");
    return [
      el("h1", {}, "Launch-gate owners"),
      table(
        [
          ["Role", (o) => o.role], ["Name", (o) => o.name], ["Slack", (o) => o.slack],
          ["E-mail", (o) => o.email], ["Phone", (o) => o.phone], ["Push", (o) => o.push_topic],
          ["Gaps", (o) => gaps(o.gaps)],
        ],
        body.owners, "No owners loaded.",
      ),
      el("h2", {}, "References"),
      table(
        [["Reference", (r) => r.key], ["Value", (r) => r.value],
         ["Gap", (r) => (r.gap ? el("span", { class: "gap" }, r.gap) : "none")]],
        body.references, "No references.",
      ),
    ];
  }

  async function gate() {
    const body = await read("/admin/api/gate");
    if (!body.phases.length) return [el("h1", {}, "Launch gate"), el("p", { class: "empty" }, "No gate phases are configured.")];
    return [
      el("h1", {}, "Launch gate"),
      body.phases.map(({ phase, evaluation }) => el("section", { class: "phase" },
        el("h2", {}, `${phase}: `, el("span", { class: "verdict" }, evaluation ? evaluation.verdict : "not evaluated yet")),
        evaluation ? [
          el("p", {}, `Evaluated ${when(evaluation.evaluated_at)}`),
          evaluation.phases.map((p) => [
            el("h3", {}, `${p.name}: ${p.verdict}`),
            table(
              [["Item", (x) => x.item], ["Verdict", (x) => el("span", { class: `v-${x.verdict}` }, x.verdict)],
               ["Evidence", (x) => x.reason], ["Observed", (x) => when(x.observed_at)],
               ["Expires", (x) => when(x.expires_at)]],
              p.items, "No items.",
            ),
          ]),
        ] : null)),
    ];
  }

  async function status() {
    const s = await read("/admin/api/status");
    return [
      el("h1", {}, `${s.name} status page: ${s.description}`),
      s.url ? el("p", {}, el("a", { href: s.url, rel: "noreferrer" }, s.url)) : null,
      table(
        [["Component", (c) => c.name], ["Group", (c) => c.group], ["State", (c) => c.state],
         ["Since", (c) => when(c.since)], ["Uptime", (c) => (c.uptime === null ? null : `${c.uptime.toFixed(2)} %`)]],
        s.components, "No components.",
      ),
      el("h2", {}, "Published incidents"),
      table(
        [["Name", (p) => p.name], ["Status", (p) => p.status], ["Impact", (p) => p.impact],
         ["Since", (p) => when(p.created_at)]],
        s.active, "None active.",
      ),
      el("h2", {}, "Maintenance"),
      table(
        [["Name", (m) => m.name], ["Status", (m) => m.status], ["Starts", (m) => when(m.starts_at)],
         ["Ends", (m) => when(m.ends_at)]],
        s.maintenances, "None scheduled.",
      ),
    ];
  }

  // --- routing -----------------------------------------------------------------------

  function show(error) {
    const problem = $("problem");
    problem.textContent = error instanceof Refused ? error.message : `Couldn't load this: ${error.message}`;
    problem.hidden = false;
  }

  async function route() {
    const [path, search] = (location.hash.slice(1) || "/incidents").split("?");
    const query = new URLSearchParams(search || "");
    const view = $("view");
    $("problem").hidden = true;
    let page;
    const number = path.match(/^\/incidents\/(\d+)$/);
    if (number) page = () => incident(number[1]);
    else page = { "/alerts": alerts, "/owners": owners, "/gate": gate, "/status": status }[path] || (() => incidents(query));
    try {
      const content = await page();
      view.replaceChildren(...[content].flat(3).filter((n) => n));
      view.hidden = false;
    } catch (error) {
      view.hidden = true;
      show(error);
    }
  }

  async function start() {
    const clerk = window.Clerk;
    if (!clerk) {
      show(new Error("ClerkJS didn't load (blocked, or the Frontend API is unreachable)."));
      return;
    }
    await clerk.load();
    if (!clerk.user || !clerk.session) {
      $("view").hidden = true;
      $("nav").hidden = true;
      clerk.mountSignIn($("sign-in"));
      if (clerk.addListener) {
        const stop = clerk.addListener(({ user }) => { if (user) { if (stop) stop(); location.reload(); } });
      }
      return;
    }
    $("sign-in").hidden = true;
    $("nav").hidden = false;
    const email = clerk.user.primaryEmailAddress ? clerk.user.primaryEmailAddress.emailAddress : clerk.user.id;
    $("who").textContent = email || "";
    window.addEventListener("hashchange", route);
    await route();
  }

  window.addEventListener("load", () => { start().catch(show); });
})();
