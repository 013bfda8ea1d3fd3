"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  liveI18n.apply(S);
  const $ = (id) => document.getElementById(id);
  const TOP = 6;
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  const storageKey = `live:screen:${code}`;

  /* The token arrives in the URL fragment, which browsers never send to a server; keep it, then hide it. */
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    try {
      localStorage.setItem(storageKey, fromHash);
    } catch {
      /* storage disabled: the token lasts for this page only */
    }
    history.replaceState(null, "", location.pathname + location.search);
  }
  let token = fromHash;
  try {
    token = token || localStorage.getItem(storageKey);
  } catch {
    /* no storage */
  }

  const participantUrl = `${location.origin}/e/${encodeURIComponent(code)}`;
  $("qr").src = `/e/${encodeURIComponent(code)}/qr.svg`;
  $("qr").alt = fmt(S.qrAlt, { url: participantUrl });
  $("join-link").textContent = participantUrl.replace(/^https?:\/\//, "");
  $("event-code").textContent = code;

  if (!token) {
    $("need-token").classList.remove("hidden");
    return;
  }

  const state = liveSync.create();
  const socket = io("/screen", { auth: { event: code, token } });

  function setConnection(status) {
    $("connection").dataset.state = status;
    $("connection").textContent = S[status];
  }

  async function resync() {
    state.resyncing = true;
    let reply;
    try {
      reply = await socket.timeout(10000).emitWithAck("snapshot");
    } catch {
      reply = { ok: false };
    }
    if (!reply.ok) {
      state.resyncing = false;
      state.buffer = [];
      return;
    }
    if (liveSync.loadSnapshot(state, reply.data).result === "gap") resync();
    render();
  }

  socket.on("connect", () => {
    setConnection("online");
    resync();
  });
  socket.on("disconnect", () => setConnection("reconnecting"));
  socket.on("resync", () => resync());
  socket.on("connect_error", (err) => {
    setConnection("reconnecting");
    if (err.data && err.data.code === "forbidden") {
      $("need-token").classList.remove("hidden");
      try {
        localStorage.removeItem(storageKey);
      } catch {
        /* no storage */
      }
      socket.disconnect();
    }
  });
  socket.on("poll_results", (msg) => {
    for (const { id, results } of msg.polls) {
      const poll = state.polls.get(id);
      if (poll) state.polls.set(id, { ...poll, results });
    }
    render();
  });
  socket.on("update", (msg) => {
    const outcome = liveSync.apply(state, msg);
    if (outcome.result === "gap") resync();
    else if (outcome.result === "applied") render();
  });

  function author(q) {
    return fmt(S.author, {
      name: q.author_name || S.anonymous,
      where: q.attendance === "in_room" ? S.inRoom : S.remote,
    });
  }

  /* The most recently opened poll that is still open takes the main area while it runs. */
  function pollOnScreen() {
    const open = [...state.polls.values()].filter((p) => p.state === "open");
    return open.sort((a, b) => (b.opened_at || 0) - (a.opened_at || 0) || b.id - a.id)[0] || null;
  }

  let shownPoll = "";
  function renderPoll() {
    const poll = pollOnScreen();
    $("poll").classList.toggle("hidden", !poll);
    $("focus").classList.toggle("hidden", !!poll);
    const key = poll ? JSON.stringify([poll.id, poll.results]) : "";
    if (key === shownPoll) return;
    shownPoll = key;
    if (!poll) return;
    $("poll-question").textContent = poll.question;
    $("poll-results").replaceChildren(
      poll.results ? livePollResults.render(poll, S) : document.createTextNode(S.waiting),
    );
  }

  /* While a moderator has the balance on screen it replaces the top questions, refreshed every few seconds. */
  const BALANCE_REFRESH_MS = 3000;
  let balanceTimer = null;
  async function refreshBalance() {
    let reply;
    try {
      reply = await socket.timeout(10000).emitWithAck("balance");
    } catch {
      return;
    }
    if (!reply.ok) return;
    $("balance-rows").replaceChildren(
      ...Object.entries(S.balanceRows).map(([key, label]) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = label;
        tr.append(th);
        for (const side of ["in_room", "remote"]) {
          const td = document.createElement("td");
          td.textContent = String(reply.data[side][key]);
          tr.append(td);
        }
        return tr;
      }),
    );
  }

  function renderBalance() {
    const show = !!(state.stage && state.stage.balance);
    $("balance").classList.toggle("hidden", !show);
    $("top").classList.toggle("hidden", show);
    if (show && !balanceTimer) {
      refreshBalance();
      balanceTimer = setInterval(refreshBalance, BALANCE_REFRESH_MS);
    } else if (!show && balanceTimer) {
      clearInterval(balanceTimer);
      balanceTimer = null;
    }
  }

  function render() {
    renderPoll();
    renderBalance();
    if (state.event) {
      $("event-title").textContent = state.event.title;
      document.title = `${state.event.title} · live`;
    }
    const focusId = state.stage && state.stage.focus;
    const focus = focusId ? state.questions.get(focusId) : null;
    $("focus").classList.toggle("has-focus", !!focus);
    $("focus-text").textContent = focus ? focus.text : "";
    $("focus-meta").textContent = focus ? author(focus) : "";
    $("focus-empty").classList.toggle("hidden", !!focus);
    $("focus-label").classList.toggle("hidden", !focus);
    const top = liveSync
      .sorted(state, "top")
      .filter((q) => q.id !== focusId && q.status === "published")
      .slice(0, TOP);
    $("top-list").replaceChildren(
      ...top.map((q) => {
        const li = document.createElement("li");
        li.dataset.id = q.id;
        const votes = document.createElement("span");
        votes.className = "top-votes";
        votes.textContent = fmt(S.votes, { count: q.votes });
        const text = document.createElement("span");
        text.className = "top-text";
        text.textContent = q.text;
        li.append(votes, text);
        return li;
      }),
    );
  }
})();
