"use strict";
(() => {
  const S = window.liveStrings;
  const $ = (id) => document.getElementById(id);
  const fmt = liveI18n.format;

  const code = $("event-code").textContent;
  const ACK_TIMEOUT_MS = 10000;
  const state = liveSync.create();
  let me = null;
  let receipts = false;
  let sort = $("sort-recent").hasAttribute("aria-current") ? "recent" : "top";
  let online = false;
  let connectedOnce = false; /* until the first connect, forms post as they do without scripts */
  const myVotes = new Set();
  const myQuestions = new Map();

  function opId() {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* The server-rendered page set this device's HttpOnly cookie; the handshake sends it. */
  const socket = io({ auth: { event: code } });

  async function send(name, payload) {
    if (!online) return { ok: false, error: { code: "offline", message: S.offline } };
    try {
      return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(name, payload);
    } catch {
      socket.io.engine.close(); /* no answer in time: a stalled connection, so reconnect */
      return { ok: false, error: { code: "offline", message: S.offline } };
    }
  }

  /* What the person does while disconnected is kept, in order, and sent once each by its op_id. */
  const OUTBOX_KEY = `live-outbox-${code}`;
  const outbox = [];
  let flushing = false;

  function submit(name, payload) {
    return new Promise((resolve) => {
      outbox.push({ name, payload, resolve, waiting: !online });
      if (!online) announce(S.waiting);
      flush();
    });
  }

  function save() {
    const asks = outbox.filter((i) => i.name === "ask").map(({ name, payload }) => ({ name, payload }));
    try {
      if (asks.length) localStorage.setItem(OUTBOX_KEY, JSON.stringify(asks));
      else localStorage.removeItem(OUTBOX_KEY);
    } catch {} /* storage off or full: the question is still kept while the page is open */
  }

  async function flush() {
    save();
    showWaiting();
    if (flushing || !online) return;
    flushing = true;
    while (online && outbox.length) {
      const item = outbox[0];
      const reply = await send(item.name, item.payload);
      if (!reply.ok && reply.error.code === "offline") {
        item.waiting = true;
        break;
      }
      outbox.shift();
      save();
      item.resolve(reply);
    }
    flushing = false;
    showWaiting();
  }

  /* The note sits after the error line of the control the waiting item came from. */
  function noteFor(item) {
    const p = item.payload;
    const error = item.name === "ask" ? $("ask-error")
      : document.querySelector(p.poll_id ? `#poll-${p.poll_id} .error` : `#questions li[data-id="${p.question_id}"] .error`);
    if (!error) return null;
    if (!error.nextElementSibling || !error.nextElementSibling.classList.contains("waiting")) {
      const note = document.createElement("p");
      note.className = "muted waiting";
      error.after(note);
    }
    return error.nextElementSibling;
  }

  function showWaiting() {
    for (const note of document.querySelectorAll(".waiting")) note.textContent = "";
    for (const item of outbox) {
      const note = item.waiting && noteFor(item);
      if (!note) continue;
      const text = item.name === "ask" ? fmt(S.waitingAsk, { text: item.payload.text }) : S.waiting;
      note.textContent = note.textContent ? `${note.textContent} ${text}` : text;
    }
  }

  function setConnection(status) {
    const el = $("connection");
    el.classList.remove("hidden");
    el.dataset.state = status;
    el.textContent = S[status];
    online = status === "online";
    connectedOnce = connectedOnce || online;
    if (online) {
      for (const error of document.querySelectorAll(".error")) if (error.textContent === S.offline) error.textContent = "";
    }
    renderForms();
  }

  async function resync() {
    state.resyncing = true;
    const reply = await send("snapshot", { sort });
    if (!reply.ok) {
      state.resyncing = false;
      state.buffer = [];
      return;
    }
    const snap = reply.data;
    receipts = snap.receipts;
    if (snap.me) {
      me = snap.me;
      myVotes.clear();
      snap.me.votes.forEach((id) => myVotes.add(id));
      myQuestions.clear();
      snap.me.questions.forEach((q) => myQuestions.set(q.id, q));
      answers = snap.me.answers || {};
    }
    const outcome = liveSync.loadSnapshot(state, snap);
    render();
    if (outcome.result === "gap") resync();
  }

  socket.on("connect", () => {
    setConnection("online");
    resync();
    flush();
  });
  socket.on("disconnect", () => setConnection("reconnecting"));
  socket.on("resync", () => resync());
  socket.on("connect_error", () => setConnection("reconnecting"));
  socket.on("mine", (msg) => {
    const q = msg.question;
    const before = myQuestions.get(q.id);
    myQuestions.set(q.id, q);
    if (before && before.status !== q.status) announce(fmt(S.statusChanged, { status: statusText(q) }));
    renderMine();
  });
  socket.on("update", (msg) => {
    const before = new Map([...state.polls.values()].map((p) => [p.id, p.state]));
    const outcome = liveSync.apply(state, msg);
    if (outcome.result === "gap") {
      resync();
    } else if (outcome.result === "applied") {
      for (const q of outcome.added) {
        if (!myQuestions.has(q.id)) announce(fmt(S.newQuestion, { text: q.text }));
      }
      for (const poll of state.polls.values()) {
        if (poll.state === before.get(poll.id) || poll.state === "draft") continue;
        announce(fmt(poll.state === "open" ? S.pollOpened : S.pollClosedNow, { question: poll.question }));
      }
      render();
    }
  });

  function announce(text) {
    const el = $("announcer");
    el.textContent = "";
    setTimeout(() => {
      el.textContent = text;
    }, 50);
  }

  function statusText(q) {
    const reason = q.reason ? S.reasons[q.reason] || q.reason : "";
    const text = fmt(S.status[q.status] || q.status, { reason });
    return q.note ? `${text} (${q.note})` : text;
  }

  function outcomeText(q) {
    const label = S.dispositions[q.disposition] || q.disposition;
    if (q.disposition === "referred") return fmt(S.referredTo, { body: q.referred_to });
    return q.response ? `${label}: ${q.response}` : label;
  }

  function renderMine() {
    const list = $("mine-list");
    const shown = [...myQuestions.values()].filter((q) => q.status !== "withdrawn" && q.text);
    $("mine-section").classList.toggle("hidden", shown.length === 0);
    list.replaceChildren(
      ...shown.reverse().map((q) => {
        const li = document.createElement("li");
        li.dataset.id = q.id;
        li.dataset.status = q.status;
        const text = document.createElement("p");
        text.className = "q-text";
        text.textContent = q.text;
        const status = document.createElement("p");
        status.className = "q-status";
        status.textContent = statusText(q);
        li.append(text, status);
        if (q.disposition && q.disposition !== "open") {
          const outcome = document.createElement("p");
          outcome.className = "q-outcome";
          outcome.dataset.disposition = q.disposition;
          outcome.textContent = outcomeText(q);
          li.append(outcome);
        }
        return li;
      }),
    );
    renderReceipt();
  }

  function renderReceipt() {
    const email = (me && me.receipt_email) || null;
    $("receipt-form").classList.toggle("hidden", !receipts || !me);
    $("receipt-edit").classList.toggle("hidden", Boolean(email));
    $("receipt-saved").classList.toggle("hidden", !email);
    $("receipt-current").textContent = email ? fmt(S.receiptCurrent, { email }) : "";
  }

  $("receipt-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("receipt-error");
    const email = $("receipt-email").value.trim();
    if (!email) {
      error.textContent = S.receiptEmpty;
      return;
    }
    const reply = await send("receipt_set", { email });
    if (!reply.ok) {
      error.textContent = liveI18n.refusal(reply.error);
      return;
    }
    error.textContent = "";
    $("receipt-email").value = "";
    me.receipt_email = reply.data.email;
    announce(S.receiptSaved);
    renderReceipt();
  });

  $("receipt-delete").addEventListener("click", async () => {
    const reply = await send("receipt_delete", {});
    if (!reply.ok) {
      $("receipt-error").textContent = liveI18n.refusal(reply.error);
      return;
    }
    $("receipt-error").textContent = "";
    me.receipt_email = null;
    announce(S.receiptDeleted);
    renderReceipt();
    $("receipt-email").focus();
  });

  function whereText(attendance) {
    return attendance === "in_room" ? S.whereInRoom : S.whereRemote;
  }

  function renderHeader() {
    const ev = state.event;
    if (!ev) return;
    document.title = `${ev.title} · live`;
    $("event-title").textContent = ev.title;
    $("event-code").textContent = ev.code;
    $("event-description").textContent = ev.description;
    $("stream").classList.toggle("hidden", !ev.stream_url);
    if (ev.stream_url) $("stream-link").href = ev.stream_url;
    $("closed-banner").classList.toggle("hidden", ev.state !== "closed");
  }

  let editingProfile = false;
  document.addEventListener("live:started", () => renderForms());
  function renderForms() {
    if (!state.event) return; /* until the first snapshot the server-rendered forms stand */
    const closed = state.event.state === "closed";
    const joined = me !== null && !editingProfile;
    $("join-form").classList.toggle("hidden", joined || closed);
    const ev = state.event;
    const waiting = ev.starts_at && !ev.advance_questions && Date.now() < Date.parse(ev.starts_at);
    $("ask-form").classList.toggle("hidden", !joined || closed || Boolean(waiting));
    if (me) {
      $("me-summary").textContent = me.name
        ? fmt(S.youAre, { name: me.name, where: whereText(me.attendance) })
        : fmt(S.youAreAnonymous, { where: whereText(me.attendance) });
      $("anonymous-row").classList.toggle("hidden", !me.name);
    }
  }

  function renderQuestions() {
    const list = $("questions");
    const template = $("question-template");
    const questions = liveSync.sorted(state, sort);
    $("empty").classList.toggle("hidden", questions.length > 0);
    const existing = new Map([...list.children].map((li) => [Number(li.dataset.id), li]));
    const canAct = online && me !== null && state.event && state.event.state === "open";
    const focused = document.activeElement; /* moving a question blurs what is focused in it */
    questions.forEach((q, index) => {
      let li = existing.get(q.id);
      if (!li) {
        li = template.content.firstElementChild.cloneNode(true);
        li.dataset.id = q.id;
        for (const input of li.querySelectorAll("input[name=question_id]")) input.value = q.id;
      }
      if (!li.dataset.ready) {
        li.dataset.ready = "1";
        li.querySelector(".vote-form").addEventListener("submit", (e) => {
          e.preventDefault();
          toggleVote(q.id);
        });
        li.querySelector(".withdraw-form").addEventListener("submit", (e) => {
          e.preventDefault();
          withdraw(q.id);
        });
      }
      existing.delete(q.id);
      const mine = myQuestions.has(q.id);
      const voted = myVotes.has(q.id);
      li.querySelector(".q-text").textContent = q.text;
      li.querySelector(".author").textContent = q.author_name || S.anonymousAuthor;
      li.querySelector(".where").textContent = whereText(q.attendance);
      const answeredBadge = li.querySelector(".answered");
      answeredBadge.textContent = S.answered;
      answeredBadge.classList.toggle("hidden", q.status !== "answered");
      const topic = li.querySelector(".topic");
      topic.textContent = q.topic || "";
      topic.classList.toggle("hidden", !q.topic);
      if (q.also_asked_by.length) {
        li.querySelector(".author").textContent += ` (${liveI18n.plural(S.alsoAskedBy, q.also_asked_by.length)})`;
      }
      li.classList.toggle("is-answered", q.status === "answered");
      const mineBadge = li.querySelector(".mine");
      mineBadge.textContent = S.mine;
      mineBadge.classList.toggle("hidden", !mine);
      li.querySelector(".withdraw").textContent = S.withdraw;
      li.querySelector(".withdraw-form").classList.toggle("hidden", !mine || !canAct);
      const vote = li.querySelector(".vote");
      vote.querySelector(".count").textContent = q.votes;
      vote.setAttribute("aria-pressed", String(voted));
      vote.value = voted ? "down" : "up";
      vote.disabled = mine; /* the "Your question" badge beside it says why */
      const votes = liveI18n.plural(S.votes, q.votes);
      vote.querySelector(".label").textContent = fmt(mine ? S.ownVotes : voted ? S.removeVote : S.upvote, { text: q.text, votes });
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    for (const li of existing.values()) li.remove();
    if (focused !== document.activeElement) {
      if (focused.isConnected) focused.focus();
      else if (document.activeElement === document.body) $("questions-title").focus(); /* its question went */
    }
  }

  let answers = {};
  function render() {
    renderHeader();
    renderForms();
    renderQuestions();
    renderMine();
    livePolls.render(state, {
      submit,
      opId,
      answers,
      joined: me !== null && !!state.event && state.event.state === "open",
      attendance: me && me.attendance,
      member: me !== null,
      eventOpen: !!state.event && state.event.state === "open",
      answered(text) {
        announce(text);
        renderPollsTab();
      },
    });
    renderPollsTab();
    showWaiting();
  }

  /* Open polls this person may answer and has not: counted on the switcher, like the server does. */
  function waitingPolls() {
    return [...state.polls.values()].filter((p) => p.state === "open" && !answers[String(p.id)]
      && !(me && p.audience === "in_room" && me.attendance !== "in_room")).length;
  }

  function renderPollsTab() {
    const n = waitingPolls();
    const text = liveI18n.plural(S.pollsWaiting, n);
    $("polls-waiting").textContent = text;
    $("polls-waiting").classList.toggle("hidden", n === 0);
    if (n) $("tab-polls").setAttribute("aria-label", fmt(S.pollsTabLabel, { waiting: text }));
    else $("tab-polls").removeAttribute("aria-label");
    $("no-polls").classList.toggle("hidden", state.polls.size > 0);
  }

  /* The switcher's links become an ARIA tablist: one view at a time, arrow keys between tabs. */
  const tabs = [["tab-questions", "questions-view"], ["tab-polls", "polls-view"]];
  function selectView(panelId, focus) {
    for (const [tabId, viewId] of tabs) {
      const chosen = viewId === panelId;
      $(tabId).setAttribute("aria-selected", String(chosen));
      $(tabId).tabIndex = chosen ? 0 : -1;
      $(viewId).hidden = !chosen;
      if (chosen && focus) $(tabId).focus();
    }
  }
  $("views").setAttribute("role", "tablist");
  for (const [tabId, viewId] of tabs) {
    const tab = $(tabId);
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", viewId);
    $(viewId).setAttribute("role", "tabpanel");
    $(viewId).setAttribute("aria-labelledby", tabId);
    tab.addEventListener("click", (e) => {
      e.preventDefault();
      selectView(viewId, false);
    });
    tab.addEventListener("keydown", (e) => {
      if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
      e.preventDefault();
      const others = tabs.filter(([id]) => id !== tabId);
      const next = e.key === "Home" ? tabs[0] : e.key === "End" ? tabs[tabs.length - 1] : others[0];
      selectView(next[1], true);
    });
  }
  /* The view the person is already in, if they started before the script arrived; else the link's. */
  const inPolls = $("polls-view").contains(document.activeElement) || location.hash.startsWith("#poll");
  selectView(inPolls ? "polls-view" : "questions-view", false);

  function questionError(id, text) {
    const li = $("questions").querySelector(`li[data-id="${id}"]`);
    if (li) li.querySelector(".error").textContent = text;
  }

  const voting = new Set(); /* a second tap while its vote waits is ignored */
  async function toggleVote(id) {
    if (voting.has(id)) return;
    voting.add(id);
    const up = !myVotes.has(id);
    const reply = await submit(up ? "upvote" : "unvote", { question_id: id, op_id: opId() });
    voting.delete(id);
    if (!reply.ok) {
      questionError(id, liveI18n.refusal(reply.error));
      return;
    }
    questionError(id, "");
    if (reply.data.voted) myVotes.add(id);
    else myVotes.delete(id);
    render();
  }

  async function withdraw(id) {
    if (!confirm(S.confirmWithdraw)) return;
    const reply = await send("withdraw", { question_id: id });
    questionError(id, reply.ok ? "" : liveI18n.refusal(reply.error));
  }

  $("join-form").addEventListener("submit", async (e) => {
    if (!connectedOnce) return;
    e.preventDefault();
    const error = $("join-error");
    const name = $("join-name").value.trim();
    const reply = await send("join", { attendance: e.submitter.value, name: name || null });
    if (!reply.ok) {
      error.textContent = liveI18n.refusal(reply.error);
      return;
    }
    error.textContent = "";
    me = { ...(me || {}), ...reply.data.me };
    editingProfile = false;
    render();
    $("ask-text").focus();
  });

  $("change-profile").addEventListener("click", (e) => {
    e.preventDefault();
    editingProfile = true;
    $("join-name").value = me.name || "";
    renderForms();
    $("join-name").focus();
  });

  const askText = $("ask-text");
  function updateCounter() {
    $("ask-counter").textContent = fmt(S.counter, { used: askText.value.length, max: 500 });
  }
  askText.addEventListener("input", updateCounter);
  updateCounter();

  $("ask-form").addEventListener("submit", async (e) => {
    if (!connectedOnce) return;
    e.preventDefault();
    const error = $("ask-error");
    const text = askText.value.trim();
    if (!text) {
      error.textContent = S.emptyQuestion;
      return;
    }
    await ask(text, false);
  });

  let duplicateOf = null;
  let asking = false; /* a second tap while sending is ignored: disabling the button would drop focus */
  async function ask(text, allowDuplicate) {
    if (asking) return;
    const reply = submit("ask", { text, anonymous: $("ask-anonymous").checked, op_id: opId(), allow_duplicate: allowDuplicate });
    if (!online) { /* kept in the outbox: the box is free for the next question */
      askText.value = "";
      updateCounter();
      asked(await reply, text, false);
      return;
    }
    asking = true;
    const ack = await reply;
    asking = false;
    asked(ack, text, true);
  }

  function asked(reply, text, focus) {
    const error = $("ask-error");
    showDuplicate(null);
    if (!reply.ok) {
      if (!askText.value) askText.value = text; /* a refused question goes back in the box */
      updateCounter();
      if (reply.error.code === "conflict" && reply.error.details) {
        showDuplicate(reply.error.details.duplicate_of);
        return;
      }
      error.textContent = liveI18n.refusal(reply.error);
      return;
    }
    error.textContent = "";
    myQuestions.set(reply.data.mine.id, reply.data.mine);
    if (askText.value.trim() === text) askText.value = "";
    updateCounter();
    announce(reply.data.mine.status === "pending" ? S.sentForReview : S.sent);
    render();
    if (focus) askText.focus(); /* ready for the next question; the announcement says this one went */
  }

  function showDuplicate(question) {
    duplicateOf = question;
    $("duplicate-offer").classList.toggle("hidden", !question);
    $("duplicate-text").textContent = question ? question.text : "";
    if (question) $("duplicate-upvote").focus();
  }

  $("duplicate-upvote").addEventListener("click", async (e) => {
    e.preventDefault();
    const id = duplicateOf.id;
    showDuplicate(null);
    askText.value = "";
    updateCounter();
    if (!myVotes.has(id)) await toggleVote(id);
  });
  $("duplicate-send").addEventListener("click", (e) => {
    e.preventDefault();
    ask(askText.value.trim(), true);
  });

  for (const [id, value] of [["sort-top", "top"], ["sort-recent", "recent"]]) {
    $(id).addEventListener("click", (e) => {
      e.preventDefault();
      sort = value;
      for (const [other, name] of [["sort-top", "top"], ["sort-recent", "recent"]]) {
        if (name === sort) $(other).setAttribute("aria-current", "true");
        else $(other).removeAttribute("aria-current");
      }
      renderQuestions();
    });
  }

  try {
    for (const item of JSON.parse(localStorage.getItem(OUTBOX_KEY)) || []) {
      submit(item.name, item.payload).then((reply) => asked(reply, item.payload.text, false));
    }
  } catch {} /* nothing kept, or storage off */
})();
