"use strict";
/* The steward page: the forms post by themselves without JavaScript; with it, entries are sent
   in place so a refused question keeps its text, and the list of entries stays current. */
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  liveI18n.apply(S);
  const $ = (id) => document.getElementById(id);
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  const api = `/api/events/${encodeURIComponent(code)}`;
  const TEXT_MAX = 500;
  const REFRESH_MS = 15000;
  $("event-code").textContent = code;

  const query = new URLSearchParams(location.search);
  if (location.search) history.replaceState(null, "", location.pathname);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function statusText(q) {
    const template = S.status[q.status] || q.status;
    return fmt(template, { reason: S.reasons[q.reason] || q.reason || "" });
  }

  function notify(message) {
    $("notice").textContent = message;
  }

  function showSignedIn(signedIn) {
    for (const id of ["entry", "mine", "sign-out", "signed-in"]) $(id).classList.toggle("hidden", !signedIn);
    $("login").classList.toggle("hidden", signedIn);
  }

  function renderEntries(questions) {
    $("mine-empty").classList.toggle("hidden", questions.length > 0);
    $("mine-list").replaceChildren(
      ...[...questions].reverse().map((q) => {
        const li = el("li");
        li.dataset.id = q.id;
        li.dataset.status = q.status;
        const who = q.author_name || S.anonymous;
        const meta = [S.channels[q.channel] || q.channel, S.attendance[q.attendance] || q.attendance, who].join(" · ");
        li.append(el("p", "q-text", q.text), el("p", "q-meta", meta), el("p", "q-status", statusText(q)));
        return li;
      }),
    );
  }

  let entries = [];

  async function load() {
    let res;
    try {
      res = await fetch(`${api}/steward/questions`, { headers: { Accept: "application/json" } });
    } catch {
      return null;
    }
    if (res.status === 403) return false;
    if (!res.ok) return null;
    const data = (await res.json()).data;
    document.title = fmt(S.titleFor, { title: data.event.title });
    $("event-title").textContent = data.event.title;
    $("me").textContent = data.me.pseudonym;
    entries = data.questions;
    renderEntries(entries);
    return true;
  }

  async function loadTitle() {
    try {
      const res = await fetch(api);
      if (res.ok) $("event-title").textContent = (await res.json()).data.title;
    } catch {
      /* the sign-in form works without the title */
    }
  }

  function counter() {
    $("entry-counter").textContent = fmt(S.counter, { n: $("entry-text").value.length, max: TEXT_MAX });
  }

  function allowDuplicate(allowed) {
    const field = $("entry-allow-duplicate");
    field.disabled = !allowed;
    field.value = allowed ? "on" : "";
  }

  function clearEntry() {
    $("entry-text").value = "";
    $("entry-name").value = "";
    $("entry-show-name").checked = false;
    allowDuplicate(false);
    $("duplicate-offer").classList.add("hidden");
    counter();
  }

  async function send(event) {
    event.preventDefault();
    const form = $("entry");
    const button = $("entry-button");
    $("entry-error").textContent = "";
    notify("");
    button.disabled = true;
    button.textContent = S.sending;
    let res = null;
    let body = null;
    try {
      res = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json" },
        body: new URLSearchParams(new FormData(form)),
      });
      body = await res.json();
    } catch {
      body = null;
    } finally {
      button.disabled = false;
      button.textContent = S.send;
    }
    if (body && body.ok) {
      const q = body.data.question;
      entries = [...entries, q];
      renderEntries(entries);
      clearEntry();
      notify(fmt(S.entered, { status: statusText(q) }));
      $("entry-text").focus();
      return;
    }
    const error = body && body.error;
    if (error && error.code === "forbidden") {
      showSignedIn(false);
      $("login-error").textContent = S.failed.forbidden;
      $("pseudonym").focus();
      return;
    }
    if (error && error.code === "conflict" && error.details && error.details.duplicate_of) {
      $("duplicate-text").textContent = error.details.duplicate_of.text;
      $("duplicate-offer").classList.remove("hidden");
      $("entry-error").textContent = S.duplicateNotSent;
      $("duplicate-send").focus();
      return;
    }
    $("entry-error").textContent = (error && S.entryFailed[error.code]) || S.entryFailed.unreachable;
    $("entry-text").focus();
  }

  $("entry-text").addEventListener("input", counter);
  $("entry").addEventListener("submit", send);
  $("duplicate-send").addEventListener("click", () => {
    allowDuplicate(true);
    $("entry").requestSubmit();
  });
  counter();

  load().then((signedIn) => {
    showSignedIn(signedIn !== false);
    const failed = query.get("failed");
    if (signedIn === false) {
      loadTitle();
      if (failed) $("login-error").textContent = fmt(S.failed[failed] || S.failed.invalid, { seconds: query.get("retry_after") });
      if (query.get("signed_out")) notify(S.signedOut);
      return;
    }
    if (failed) $("entry-error").textContent = S.entryFailed[failed] || S.entryFailed.invalid;
    const entered = entries.find((q) => String(q.id) === query.get("entered"));
    if (entered) notify(fmt(S.entered, { status: statusText(entered) }));
    setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, REFRESH_MS);
  });
})();
