"use strict";
/* The console's poll panel: prepare drafts, open and close polls, watch full results live. */
(() => {
  const S = window.liveStrings;
  const $ = (id) => document.getElementById(id);
  const fmt = liveI18n.format;
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  /* The same /moderate connection as the rest of the console: the client shares one per namespace. */
  const socket = io("/moderate", { auth: { event: code } });
  const room = io("/", { auth: { event: code } });
  const polls = new Map();

  async function send(name, payload) {
    try {
      return await socket.timeout(10000).emitWithAck(name, payload);
    } catch {
      return { ok: false, error: { code: "offline", message: S.reconnecting } };
    }
  }

  async function load() {
    const reply = await send("polls", {});
    if (!reply.ok) return;
    polls.clear();
    reply.data.forEach((p) => polls.set(p.id, p));
    render();
  }

  socket.on("connect", load);
  socket.on("poll_results", (msg) => {
    for (const { id, results } of msg.polls) {
      const poll = polls.get(id);
      if (poll) polls.set(id, { ...poll, results });
    }
    render();
  });
  room.on("update", (msg) => {
    if (msg.type === "poll") load();
  });

  function kindFields() {
    const kind = $("poll-kind").value;
    $("poll-options-row").classList.toggle("hidden", !["single", "multiple", "ranking"].includes(kind));
    $("poll-max-row").classList.toggle("hidden", kind !== "multiple");
    $("poll-scale-row").classList.toggle("hidden", kind !== "rating");
    $("poll-entries-row").classList.toggle("hidden", kind !== "word_cloud");
  }
  $("poll-kind").addEventListener("change", kindFields);
  kindFields();

  $("poll-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const kind = $("poll-kind").value;
    const payload = {
      kind,
      question: $("poll-question").value,
      audience: $("poll-audience").value,
      visibility: $("poll-visibility").value,
    };
    if (["single", "multiple", "ranking"].includes(kind)) {
      payload.options = $("poll-options").value.split("\n").map((o) => o.trim()).filter(Boolean);
    }
    if (kind === "multiple") payload.max_choices = Number($("poll-max").value);
    if (kind === "rating") {
      payload.scale_min = Number($("poll-min").value);
      payload.scale_max = Number($("poll-scale-max").value);
    }
    if (kind === "word_cloud") payload.max_entries = Number($("poll-entries").value);
    const reply = await send("poll_create", payload);
    if (!reply.ok) {
      $("poll-error").textContent = reply.error.message;
      return;
    }
    $("poll-error").textContent = "";
    $("poll-question").value = "";
    $("poll-options").value = "";
    polls.set(reply.data.id, reply.data);
    render();
  });

  /* The acted-on poll keeps focus: on its new button (Close after Open), else on its card. */
  function focusPoll(id) {
    const li = $("poll-admin-list").querySelector(`li[data-id="${id}"]`);
    if (!li) return;
    (li.querySelector("button") || li).focus();
  }

  async function change(poll, action) {
    const reply = await send(action, { poll_id: poll.id });
    if (!reply.ok) {
      $("poll-error").textContent = reply.error.message;
      focusPoll(poll.id);
      return;
    }
    polls.set(poll.id, reply.data);
    render();
    focusPoll(poll.id);
  }

  /* Results arrive several times a second; a rebuilt list gives focus back to where it was. */
  function render() {
    const active = document.activeElement;
    const held = active && active.closest("#poll-admin-list li[data-id]");
    renderList();
    if (held) focusPoll(held.dataset.id);
  }

  function renderList() {
    const list = $("poll-admin-list");
    const items = [...polls.values()].sort((a, b) => b.id - a.id);
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = S.noPolls;
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(
      ...items.map((poll) => {
        const li = document.createElement("li");
        li.className = "mod-item";
        li.dataset.id = poll.id;
        li.tabIndex = -1;
        const title = document.createElement("p");
        title.className = "q-text";
        title.textContent = poll.question;
        const meta = document.createElement("p");
        meta.className = "muted";
        meta.textContent = `${S.pollState[poll.state]} · ${poll.kind} · ${poll.visibility}`;
        const actions = document.createElement("div");
        actions.className = "row";
        const button = (label, action) => {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "secondary";
          b.textContent = label;
          b.setAttribute("aria-label", fmt(S.actionOn, { action: label, text: poll.question }));
          b.addEventListener("click", () => change(poll, action));
          return b;
        };
        if (poll.state === "draft") actions.append(button(S.openPoll, "poll_open"));
        if (poll.state === "open") actions.append(button(S.closePoll, "poll_close"));
        if (poll.state === "closed") actions.append(button(S.reopenPoll, "poll_open"));
        li.append(title, meta, actions);
        if (poll.results) li.append(livePollResults.render(poll, S));
        return li;
      }),
    );
  }
})();
