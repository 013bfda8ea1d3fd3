"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  liveI18n.apply(S);
  const $ = (id) => document.getElementById(id);
  const ACK_TIMEOUT_MS = 10000;
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  $("event-code").textContent = code;
  $("record-link").href = `/e/${encodeURIComponent(code)}/record`;

  const questions = new Map();
  const participants = new Map();
  let stage = { mode: "post", focus: null };
  let selected = null;
  let rejecting = null;

  const query = new URLSearchParams(location.search);
  const failed = query.get("failed");
  if (failed) {
    $("login-error").textContent = fmt(S.failed[failed] || S.failed.invalid, { seconds: query.get("retry_after") });
  }

  /* The session cookie is HttpOnly: the page learns whether it is signed in by trying to connect. */
  const socket = io("/moderate", { auth: { event: code } });
  /* The room's public stream, only for live vote counts. */
  const room = io("/", { auth: { event: code } });

  function showLogin(message) {
    $("login").classList.remove("hidden");
    $("console").classList.add("hidden");
    if (message) $("login-error").textContent = message;
    $("pseudonym").focus();
  }

  function setConnection(status) {
    $("connection").dataset.state = status;
    $("connection").textContent = S[status];
  }

  async function send(name, payload) {
    try {
      return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(name, payload);
    } catch {
      return { ok: false, error: { code: "offline", message: S.reconnecting } };
    }
  }

  async function load() {
    const reply = await send("snapshot", {});
    if (!reply.ok) return;
    const snap = reply.data;
    questions.clear();
    snap.questions.forEach((q) => questions.set(q.id, q));
    participants.clear();
    snap.participants.forEach((p) => participants.set(p.id, p));
    stage = snap.stage;
    document.title = fmt(S.titleFor, { title: snap.event.title });
    $("event-title").textContent = document.title;
    $("me").textContent = snap.me.pseudonym;
    $("log").replaceChildren(...snap.log.map(logItem));
    renderBalance(snap.balance);
    loadIntegrity();
    $("login").classList.add("hidden");
    $("console").classList.remove("hidden");
    render();
  }

  let wasSignedIn = false;
  socket.on("connect", () => {
    wasSignedIn = true;
    setConnection("online");
    load();
  });
  socket.on("resync", () => load());
  socket.on("disconnect", (reason) => {
    setConnection("reconnecting");
    if (reason === "io server disconnect") showLogin(S.signedOut);
  });
  socket.on("connect_error", (err) => {
    if (err.data && err.data.code === "forbidden") {
      socket.disconnect();
      setConnection("reconnecting");
      showLogin(wasSignedIn ? S.signedOut : "");
    } else {
      setConnection("reconnecting");
    }
  });
  socket.on("question", ({ question }) => {
    const known = questions.get(question.id);
    if (!known && question.status === "pending") $("queue-news").textContent = fmt(S.newInQueue, { text: question.text });
    if (!known || known.version <= question.version) questions.set(question.id, question);
    render();
  });
  socket.on("stage", (msg) => {
    stage = msg.stage;
    render();
  });
  socket.on("participant", ({ participant }) => {
    participants.set(participant.id, participant);
    render();
  });
  socket.on("log", ({ entry }) => {
    $("log").prepend(logItem(entry));
    refreshBalance();
  });
  room.on("update", (msg) => {
    refreshBalance();
    if (msg.type !== "votes") return;
    for (const [id, votes] of msg.counts) {
      const q = questions.get(id);
      if (q) questions.set(id, { ...q, votes });
    }
    render();
  });

  /* A question from someone without a device: the same filters and queue as any other. */
  async function enter(allowDuplicate) {
    const text = $("enter-text");
    const payload = {
      text: text.value,
      channel: $("enter-channel").value,
      attendance: document.querySelector("input[name=enter-attendance]:checked").value,
      anonymous: !$("enter-show-name").checked,
    };
    if ($("enter-name").value.trim()) payload.name = $("enter-name").value;
    if (allowDuplicate) payload.allow_duplicate = true;
    const reply = await send("enter", payload);
    $("enter-anyway").classList.toggle("hidden", !(reply.error && reply.error.code === "conflict"));
    if (!reply.ok) {
      $("enter-error").textContent = reply.error.message;
      $("enter-done").textContent = "";
      text.focus();
      return;
    }
    const question = reply.data.question;
    questions.set(question.id, question);
    $("enter-error").textContent = "";
    $("enter-done").textContent = fmt(S.entered, { id: question.id, text: question.text });
    text.value = "";
    $("enter-name").value = "";
    $("enter-show-name").checked = false;
    text.focus();
    render();
  }
  $("enter-form").addEventListener("submit", (e) => {
    e.preventDefault();
    enter(false);
  });
  $("enter-anyway").addEventListener("click", () => enter(true));

  /* A log entry as a sentence from its action, reason and details, in the string table's words. */
  function sentence(entry) {
    const details = entry.details || {};
    const person = participants.get(entry.participant_id);
    const values = {
      ...details,
      who: S.actors[entry.moderator] || entry.moderator,
      action: entry.action,
      q: entry.question_id ? `#${entry.question_id}` : "",
      reason: S.reasonNames[entry.reason] || entry.reason,
      flags: (details.flags || []).map((f) => S.flags[f] || f).join(", "),
      before: entry.before_text,
      after: entry.after_text,
      person: (person && person.name) || S.someoneAnonymous,
      mode: S.modeNames[details.mode] || details.mode,
      screen: S.screenNames[details.screen] || details.screen,
      channel: S.channels[details.channel] || details.channel,
    };
    if (entry.action === "dispose") {
      const text = fmt(S.disposeSentences[entry.reason] || S.logSentences.other, values);
      return details.due_date ? fmt(S.dueBy, { sentence: text, due_date: details.due_date }) : text;
    }
    const key = entry.action === "label" && !details.topic ? "unlabel" : entry.action;
    return fmt(S.logSentences[key] || S.logSentences.other, values);
  }

  function logItem(entry) {
    const li = document.createElement("li");
    const time = document.createElement("time");
    const at = new Date(entry.at * 1000);
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
    const text = document.createElement("span");
    text.className = "sentence";
    text.textContent = sentence(entry);
    li.append(time, text);
    return li;
  }

  /* Take turns between the room and the stream, each side keeping its own order. */
  function alternated(list) {
    if (!$("alternate").checked) return list;
    const sides = [list.filter((q) => q.attendance === "in_room"), list.filter((q) => q.attendance !== "in_room")];
    const turns = [];
    for (let i = 0; turns.length < list.length; i++) {
      for (const side of sides) if (i < side.length) turns.push(side[i]);
    }
    return turns;
  }
  function queue() {
    return alternated([...questions.values()].filter((q) => q.status === "pending").sort((a, b) => a.id - b.id));
  }
  function published() {
    return alternated(
      [...questions.values()]
        .filter((q) => q.status === "published" || q.status === "answered")
        .sort((a, b) => b.votes - a.votes || a.id - b.id),
    );
  }

  function renderBalance(balance) {
    $("balance-rows").replaceChildren(
      ...Object.entries(S.balanceRows).map(([key, label]) => {
        const tr = document.createElement("tr");
        tr.dataset.figure = key;
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = label;
        tr.append(th);
        for (const side of ["in_room", "remote"]) {
          const td = document.createElement("td");
          td.textContent = String(balance[side][key]);
          tr.append(td);
        }
        return tr;
      }),
    );
  }
  let balanceTimer = null;
  /* Counts change with every vote; a refresh at most once a second keeps the console calm. */
  function refreshBalance() {
    if (balanceTimer) return;
    balanceTimer = setTimeout(async () => {
      balanceTimer = null;
      const reply = await send("balance", {});
      if (reply.ok) renderBalance(reply.data);
    }, 1000);
  }
  $("alternate").addEventListener("change", () => render());

  function integrityRow(address) {
    const tr = document.createElement("tr");
    const cells = [
      address.address,
      fmt(S.participantsInRoom, address),
      String(address.votes),
      address.reasons.map((r) => S.why[r] || r).join(", "),
      address.questions
        .map((q) => {
          const text = fmt(S.votedFor, { id: q.question_id, votes: q.votes });
          return q.burst ? fmt(S.burst, { text }) : text;
        })
        .join("; "),
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.firstElementChild.className = "flagged-address";
    return tr;
  }
  async function loadIntegrity() {
    const reply = await send("integrity", {});
    if (!reply.ok) return report(reply);
    const { flagged, thresholds } = reply.data;
    $("integrity-intro").textContent = fmt(S.integrityIntro, {
      participants: thresholds.many_participants,
      votes: thresholds.burst_votes,
      seconds: thresholds.burst_window,
    });
    $("integrity-rows").replaceChildren(...flagged.map(integrityRow));
    $("integrity-table").classList.toggle("hidden", flagged.length === 0);
    $("integrity-none").textContent = flagged.length ? "" : S.integrityNone;
  }
  $("integrity-refresh").addEventListener("click", loadIntegrity);
  function ordered() {
    return [...queue(), ...published()];
  }

  /* Every card has the same buttons: each one's name says which question it acts on. */
  function button(label, action, q) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small secondary";
    b.dataset.action = action;
    b.textContent = label;
    b.setAttribute("aria-label", fmt(S.actionOn, { action: label, text: q.text }));
    return b;
  }

  function renderItem(q, list) {
    const li = $("item-template").content.firstElementChild.cloneNode(true);
    li.dataset.id = q.id;
    li.classList.toggle("selected", q.id === selected);
    li.classList.toggle("on-screen", q.id === stage.focus);
    li.querySelector(".q-text").textContent = `#${q.id} ${q.text}`;
    li.querySelector(".votes").textContent = fmt(S.votes, { count: q.votes });
    const status = q.id === stage.focus ? S.onScreen : S.statuses[q.status] || q.status;
    li.querySelector(".status").textContent = status;
    const person = participants.get(q.participant_id);
    li.querySelector(".author").textContent = fmt(S.author, {
      name: q.author_name || S.anonymous,
      where: q.attendance === "in_room" ? S.inRoom : S.remote,
    });
    li.querySelector(".history").textContent = person
      ? fmt(S.history, { count: person.asked }) + (person.muted ? ` · ${S.mutedFlag}` : "")
      : "";
    const badge = (className, text) => {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      return span;
    };
    li.querySelector(".flags").replaceChildren(
      ...(q.channel && q.channel !== "device" ? [badge("badge", S.channelBadges[q.channel] || q.channel)] : []),
      ...(q.asked_before_start ? [badge("badge", S.askedBefore)] : []),
      ...q.flags.map((f) => badge(`badge flag flag-${f}`, S.flags[f] || f)),
    );
    const similar = q.duplicate_of && questions.get(q.duplicate_of);
    const suggestion = li.querySelector(".suggestion");
    suggestion.classList.toggle("hidden", !similar);
    if (similar) {
      li.querySelector(".suggestion-text").textContent = fmt(S.similar, { text: similar.text });
      const merge = li.querySelector(".merge-suggested");
      merge.textContent = fmt(S.mergeInto, { id: similar.id });
      merge.dataset.action = "merge-suggested";
    }
    const actions = li.querySelector(".actions");
    const names =
      q.status === "pending"
        ? ["approve", "reject", "edit", "merge"]
        : [q.id === stage.focus ? "unfocus" : "focus", "answer", "reject", "archive", "edit", "label", "merge"];
    if (q.status === "answered") names.splice(names.indexOf("answer"), 1);
    names.push(person && person.muted ? "unmute" : "mute");
    actions.replaceChildren(...names.map((n) => button(S.actions[n], n, q)));
    list.append(li);
  }

  /* Lists are rebuilt on every change; whatever had focus in them gets it back. */
  function focusedInLists() {
    const el = document.activeElement;
    const li = el && el.closest("#queue li[data-id], #published li[data-id]");
    if (!li) return null;
    const action = el.closest("[data-action]");
    return { id: li.dataset.id, list: li.parentElement.id, action: action && action.dataset.action };
  }
  function refocus(at) {
    if (!at) return;
    const li = document.querySelector(`#${at.list} li[data-id="${at.id}"]`);
    const action = li && at.action && li.querySelector(`[data-action="${at.action}"]`);
    if (action) action.focus();
    else if (li) li.focus();
  }

  function render() {
    const had = focusedInLists();
    renderLists();
    refocus(had);
  }

  function renderLists() {
    for (const radio of document.querySelectorAll("input[name=mode]")) radio.checked = radio.value === stage.mode;
    for (const radio of document.querySelectorAll("input[name=screen]")) radio.checked = radio.value === (stage.screen || "auto");
    $("screen-balance").setAttribute("aria-pressed", String(!!stage.balance));
    const pending = queue();
    $("queue-count").textContent = String(pending.length);
    $("queue").replaceChildren();
    pending.forEach((q) => renderItem(q, $("queue")));
    $("queue-empty").classList.toggle("hidden", pending.length > 0);
    const shown = published();
    $("published").replaceChildren();
    shown.forEach((q) => renderItem(q, $("published")));
    $("published-empty").classList.toggle("hidden", shown.length > 0);
    if (selected !== null && !questions.has(selected)) selected = null;
  }

  async function act(name, q, extra = {}) {
    const reply = await send(name, { question_id: q.id, version: q.version, ...extra });
    report(reply);
    return reply;
  }

  function report(reply) {
    $("action-error").textContent = "";
    if (reply.ok) {
      if (reply.data.question) questions.set(reply.data.question.id, reply.data.question);
      if (reply.data.stage) stage = reply.data.stage;
      render();
      return;
    }
    if (reply.error.code === "conflict" && reply.error.details) {
      questions.set(reply.error.details.question.id, reply.error.details.question);
      $("action-error").textContent = fmt(S.conflict, { who: S.someone });
      render();
      return;
    }
    $("action-error").textContent = reply.error.message;
  }

  /* After an action focus stays on the card, or moves to the one that took its place, never to the body. */
  function focusAfter(origin) {
    const same = document.querySelector(`#${origin.list} li[data-id="${origin.id}"]`);
    if (same) return same.focus();
    const rest = $(origin.list).querySelectorAll("li[data-id]");
    const successor = rest[Math.min(origin.index, rest.length - 1)];
    if (successor) return successor.focus();
    const moved = document.querySelector(`li[data-id="${origin.id}"]`);
    if (moved) return moved.focus();
    return $(`${origin.list}-title`).focus();
  }
  function placeOf(q) {
    const li = document.querySelector(`li[data-id="${q.id}"]`);
    if (!li) return null;
    return { id: String(q.id), list: li.parentElement.id, index: [...li.parentElement.children].indexOf(li) };
  }

  async function perform(action, q) {
    const origin = placeOf(q);
    const result = await performOn(action, q);
    if (origin && !["reject", "edit", "label", "merge"].includes(action)) focusAfter(origin);
    return result;
  }

  async function performOn(action, q) {
    if (action === "approve" || action === "answer" || action === "archive" || action === "unmerge") {
      return act(action, q);
    }
    if (action === "focus") return act("focus", q);
    if (action === "unfocus") return report(await send("focus", {}));
    if (action === "reject") return openReject(q, document.activeElement);
    if (action === "edit" || action === "label" || action === "merge") return openAsking(action, q, document.activeElement);
    if (action === "merge-suggested") return act("merge", q, { into: q.duplicate_of });
    if (action === "mute" || action === "unmute") {
      return report(await send(action, { participant_id: q.participant_id }));
    }
    return null;
  }

  /* The native modal dialog brings the backdrop, the focus trap and Escape from anywhere inside. */
  let returnTo = null;
  function openReject(q, opener) {
    rejecting = q;
    returnTo = opener && opener !== document.body ? opener : null;
    $("reject-text").textContent = q.text;
    $("reject-note").value = "";
    $("reject-dialog").showModal();
    $("reject-reason").focus();
  }
  function closeReject() {
    $("reject-dialog").close();
  }
  $("reject-dialog").addEventListener("close", () => {
    const q = rejecting;
    rejecting = null;
    if (!q) return;
    const li = document.querySelector(`li[data-id="${q.id}"]`);
    const opener = returnTo && returnTo.isConnected ? returnTo : li && li.querySelector('[data-action="reject"]');
    if (opener) opener.focus();
    else if (li) li.focus();
  });
  $("reject-reason").replaceChildren(
    ...Object.entries(S.reasons).map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }),
  );
  $("reject-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = questions.get(rejecting.id) || rejecting;
    const note = $("reject-note").value.trim();
    const origin = placeOf(q);
    rejecting = null;
    closeReject();
    await act("reject", q, { reason: $("reject-reason").value, note: note || null });
    if (origin) focusAfter(origin);
  });
  $("reject-cancel").addEventListener("click", closeReject);

  /* Edit, label and merge ask in a modal dialog that stays open, with the server's answer inside, until it succeeds. */
  const asking = {
    edit: {
      fill: (q) => q.text,
      payload: (value, q) => (value.trim() === q.text ? null : { text: value }),
    },
    label: {
      fill: (q) => q.topic || "",
      payload: (value) => ({ topic: value.trim() || null }),
    },
    merge: {
      fill: (q) => (q.duplicate_of ? String(q.duplicate_of) : ""),
      payload: (value) => {
        const into = value.trim().replace(/^#/, "");
        return /^\d{1,15}$/.test(into) ? { into: Number(into) } : { error: S.mergeNumber };
      },
    },
  };
  let asked = null;
  function optionsFor(list, entries) {
    $(list).replaceChildren(
      ...entries.map(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        if (label) option.label = label;
        return option;
      }),
    );
  }
  function openAsking(kind, q, opener) {
    asked = { kind, q, opener: opener && opener !== document.body ? opener : null };
    $(`${kind}-text`).textContent = q.text;
    $(`${kind}-error`).textContent = "";
    $(`${kind}-field`).value = asking[kind].fill(q);
    $(`${kind}-field`).removeAttribute("aria-invalid");
    if (kind === "label") {
      const topics = new Set([...questions.values()].map((other) => other.topic).filter(Boolean));
      optionsFor("known-topics", [...topics].sort().map((topic) => [topic]));
    }
    if (kind === "merge") {
      optionsFor("merge-targets", [...questions.values()]
        .filter((other) => other.id !== q.id && (other.status === "published" || other.status === "answered" || other.status === "pending"))
        .map((other) => [String(other.id), fmt(S.mergeTarget, { id: other.id, text: other.text })]));
    }
    $(`${kind}-dialog`).showModal();
    $(`${kind}-field`).focus();
  }
  for (const kind of Object.keys(asking)) {
    const dialog = $(`${kind}-dialog`);
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      const was = asked;
      asked = null;
      if (!was || was.done) return;
      const li = document.querySelector(`li[data-id="${was.q.id}"]`);
      const opener = was.opener && was.opener.isConnected ? was.opener : li && li.querySelector(`[data-action="${kind}"]`);
      if (opener) opener.focus();
      else if (li) li.focus();
    });
    $(`${kind}-form`).addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!asked) return;
      const q = questions.get(asked.q.id) || asked.q;
      const payload = asking[kind].payload($(`${kind}-field`).value, q);
      const shown = (message) => {
        $(`${kind}-error`).textContent = message;
        $(`${kind}-field`).setAttribute("aria-invalid", "true");
        $(`${kind}-field`).focus();
      };
      if (payload && payload.error) return shown(payload.error);
      if (payload === null) return dialog.close();
      const origin = placeOf(q);
      const reply = await send(kind, { question_id: q.id, version: q.version, ...payload });
      if (!reply.ok) {
        if (reply.error.code === "conflict" && reply.error.details) {
          questions.set(reply.error.details.question.id, reply.error.details.question);
          render();
          if (asked) asked.q = reply.error.details.question;
          return shown(fmt(S.conflict, { who: S.someone }));
        }
        return shown(reply.error.message);
      }
      asked.done = true;
      dialog.close();
      report(reply);
      if (origin) focusAfter(origin);
    });
  }

  for (const list of [$("queue"), $("published")]) {
    /* The keys act on the card that has focus, wherever an action left it. */
    list.addEventListener("focusin", (e) => {
      const li = e.target.closest("li[data-id]");
      if (!li) return;
      selected = Number(li.dataset.id);
      for (const card of document.querySelectorAll("li[data-id]")) card.classList.toggle("selected", card === li);
    });
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-id]");
      if (!li) return;
      selected = Number(li.dataset.id);
      const action = e.target.closest("[data-action]");
      if (action) perform(action.dataset.action, questions.get(selected));
      else render();
    });
  }

  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", async () => report(await send("mode", { mode: radio.value })));
  }
  for (const radio of document.querySelectorAll("input[name=screen]")) {
    radio.addEventListener("change", async () => report(await send("screen_mode", { screen: radio.value })));
  }
  $("clear-screen").addEventListener("click", async () => report(await send("focus", {})));
  $("screen-balance").addEventListener("click", async () =>
    report(await send("screen_balance", { show: !stage.balance })),
  );

  const KEYS = { a: "approve", r: "reject", s: "focus", d: "answer", x: "archive", e: "edit" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select")) return;
    if (document.querySelector("dialog[open]")) return;
    const list = ordered();
    if (!list.length) return;
    const index = list.findIndex((q) => q.id === selected);
    if (e.key === "j" || e.key === "k") {
      const next = e.key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      selected = list[index === -1 ? 0 : next].id;
      render();
      const li = document.querySelector(`li[data-id="${selected}"]`);
      if (li) li.focus();
      e.preventDefault();
      return;
    }
    const action = KEYS[e.key];
    if (action && index !== -1) {
      e.preventDefault();
      perform(action, list[index]);
    }
  });
})();
