"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  const $ = (id) => document.getElementById(id);
  const TOP = 6;
  /* Type sizes as shares of the screen's height: 3.3vh is 24 px at 720p, 36 px at 1080p. */
  const FOCUS_TYPE = { min: 0.033, max: 0.08 };
  const POLL_TYPE = { min: 0.026, beside: 0.022, max: 0.045 };
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

  /* The newest poll in a state, by when it opened: the one the room is answering, or last answered. */
  function latestPoll(pollState) {
    const polls = [...state.polls.values()].filter((p) => p.state === pollState);
    return polls.sort((a, b) => (b.opened_at || 0) - (a.opened_at || 0) || b.id - a.id)[0] || null;
  }

  /* What the main area shows, as the moderator chose (stage.screen): the poll, the focus, or both. */
  function shown() {
    const mode = (state.stage && state.stage.screen) || "auto";
    const open = latestPoll("open");
    if (mode === "focus") return { poll: null, focus: true };
    if (mode === "auto") return { poll: open, focus: !open };
    const poll = open || latestPoll("closed");
    return { poll, focus: mode === "both" || !poll };
  }

  let shownPoll = "";
  function renderPoll(poll) {
    $("poll").classList.toggle("hidden", !poll);
    const key = poll ? JSON.stringify([poll.id, poll.state, poll.results]) : "";
    if (key === shownPoll) return;
    shownPoll = key;
    if (!poll) return;
    $("poll-label").textContent = poll.state === "open" ? S.pollLabel : S.pollClosedLabel;
    $("poll-question").textContent = poll.question;
    $("poll-results").replaceChildren(
      poll.results ? livePollResults.render(poll, S) : document.createTextNode(S.waiting),
    );
  }

  /* Only what a viewer needs is spoken: a new question in focus, a poll opening or closing. */
  const heard = { focus: undefined, polls: null };
  function say(text) {
    $("announce").textContent = text;
  }
  function finalResults(poll) {
    const r = poll.results;
    if (!r || !["single", "multiple", "rating", "ranking"].includes(poll.kind)) return "";
    const labels = poll.kind === "rating" ? r.all.scale.map(String) : poll.options;
    const values = poll.kind === "ranking" ? r.all.scores : r.all.counts;
    return fmt(S.finalResults, { results: labels.map((l, i) => `${l} ${values[i]}`).join(", ") });
  }
  function announce(focus) {
    const polls = new Map([...state.polls.values()].map((p) => [p.id, p.state]));
    if (heard.polls) {
      for (const poll of state.polls.values()) {
        const before = heard.polls.get(poll.id);
        if (poll.state === before) continue;
        if (poll.state === "open") say(fmt(S.pollOpened, { question: poll.question }));
        else if (poll.state === "closed" && before === "open") {
          say(`${fmt(S.pollClosed, { question: poll.question })} ${finalResults(poll)}`.trim());
        }
      }
    }
    heard.polls = polls;
    const focusId = focus ? focus.id : null;
    if (heard.focus !== undefined && focusId !== heard.focus && focus) say(fmt(S.nowAnswering, { text: focus.text }));
    heard.focus = focusId;
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

  /* Binary search for the largest font size, between two shares of the screen's height, at which
     the box holds its content; the smallest when even that does not fit. */
  function fitType(el, box, min, max) {
    const fits = () => box.scrollHeight <= box.clientHeight && box.scrollWidth <= box.clientWidth;
    let low = min * innerHeight;
    let high = max * innerHeight;
    el.style.fontSize = `${high}px`;
    if (fits()) return true;
    el.style.fontSize = `${low}px`;
    if (!fits()) return false;
    while (high - low > 0.5) {
      const mid = (low + high) / 2;
      el.style.fontSize = `${mid}px`;
      if (fits()) low = mid;
      else high = mid;
    }
    el.style.fontSize = `${low}px`;
    return true;
  }

  /* The stage's type shrinks to its minimum, then top questions give up their place to it one by
     one, then poll labels keep one line instead of two. */
  function fit() {
    const list = $("top-list");
    const section = $("top");
    const pollFits = () => {
      if ($("poll").classList.contains("hidden")) return true;
      const min = $("focus").classList.contains("hidden") ? POLL_TYPE.min : POLL_TYPE.beside;
      return fitType($("poll"), $("poll"), min, POLL_TYPE.max);
    };
    const stageFits = () => {
      let fits = true;
      if (!$("focus").classList.contains("hidden")) fits = fitType($("focus-text"), $("focus"), FOCUS_TYPE.min, FOCUS_TYPE.max) && fits;
      return pollFits() && fits;
    };
    $("poll").classList.remove("tight");
    section.classList.remove("empty");
    while (!stageFits() && list.lastElementChild) {
      list.lastElementChild.remove();
      section.classList.toggle("empty", !list.lastElementChild);
    }
    if (!stageFits()) {
      $("poll").classList.add("tight");
      stageFits();
    }
    /* Then open-text answers give way oldest first, and the cloud's rarest words, as top questions did. */
    const answers = $("poll").querySelector(".answers");
    const cloud = $("poll").querySelector(".cloud");
    const items = answers || cloud;
    while (items && items.children.length > 1 && !pollFits()) {
      const item = answers ? answers.firstElementChild : cloud.lastElementChild;
      if (cloud && item.nextSibling) item.nextSibling.remove();
      item.remove();
    }
    while (list.lastElementChild && section.scrollHeight > section.clientHeight) list.lastElementChild.remove();
    section.classList.toggle("empty", !list.lastElementChild);
  }

  function render() {
    const { poll, focus: showFocus } = shown();
    renderPoll(poll);
    renderBalance();
    if (state.event) {
      $("event-title").textContent = state.event.title;
      document.title = `${state.event.title} · live`;
    }
    const focusId = state.stage && state.stage.focus;
    const focus = focusId ? state.questions.get(focusId) : null;
    $("focus").classList.toggle("hidden", !showFocus);
    document.querySelector("main").dataset.show = [showFocus && "focus", poll && "poll"].filter(Boolean).join("-");
    $("focus").classList.toggle("has-focus", !!focus);
    $("focus-text").textContent = focus ? focus.text : "";
    $("focus-meta").textContent = focus ? author(focus) : "";
    $("focus-empty").classList.toggle("hidden", !!focus);
    $("focus-label").classList.toggle("hidden", !focus);
    announce(focus);
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
    fit();
  }
  addEventListener("resize", () => {
    shownPoll = "";
    render();
  });
})();
