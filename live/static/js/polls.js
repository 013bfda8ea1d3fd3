"use strict";
/*
 * The participant page's polls: a form per open poll, kept while the person is answering,
 * with the results (poll-results.js) beneath.
 */
window.livePolls = (() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  const cards = new Map();
  let ctx = null;

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function choiceList(poll, type, answer) {
    const fieldset = el("fieldset");
    fieldset.append(el("legend", { class: "sr-only" }, poll.question));
    const box = el("div", { class: "choices vertical" });
    poll.options.forEach((option, index) => {
      const label = el("label");
      const input = el("input", { type, name: "value", value: String(index) });
      if (Array.isArray(answer) ? answer.includes(index) : answer === index) input.checked = true;
      label.append(input, " ", el("span", {}, option));
      box.append(label);
    });
    fieldset.append(box);
    return fieldset;
  }

  function ratingList(poll, answer) {
    const fieldset = el("fieldset");
    fieldset.append(el("legend", { class: "sr-only" }, poll.question));
    const box = el("div", { class: "choices scale" });
    for (let v = poll.settings.scale_min; v <= poll.settings.scale_max; v++) {
      const label = el("label");
      const input = el("input", { type: "radio", name: "value", value: String(v) });
      if (answer === v) input.checked = true;
      label.append(input, " ", el("span", {}, String(v)));
      box.append(label);
    }
    fieldset.append(box);
    return fieldset;
  }

  function rankingList(poll, answer) {
    const list = el("ol", { class: "ranking" });
    const order = Array.isArray(answer) ? answer : poll.options.map((_, i) => i);
    for (const index of order) {
      const item = el("li", { "data-option": String(index) });
      item.append(el("span", { class: "option" }, poll.options[index]));
      list.append(item);
    }
    return list;
  }

  /*
   * A ranking the server rendered with a place menu per option becomes one moved with Up and
   * Down buttons, in the order the person already gave it, with focus kept on the same option.
   */
  function rankable(list, poll) {
    const items = [...list.children];
    const places = items.map((li) => Number((li.querySelector("select") || {}).value));
    if (places.every(Boolean) && new Set(places).size === items.length) {
      items
        .map((li, i) => [places[i], li])
        .sort((a, b) => a[0] - b[0])
        .forEach(([, li]) => list.append(li));
    }
    for (const item of list.children) {
      const option = poll.options[Number(item.dataset.option)];
      const select = item.querySelector("select");
      const hadFocus = select && select === document.activeElement;
      if (select) {
        item.querySelector("label").replaceWith(el("span", { class: "option" }, option));
        select.remove();
      }
      const up = el("button", { type: "button", class: "secondary small", "aria-label": fmt(S.moveUpLabel, { option }) }, S.moveUp);
      const down = el("button", { type: "button", class: "secondary small", "aria-label": fmt(S.moveDownLabel, { option }) }, S.moveDown);
      up.addEventListener("click", () => {
        if (item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
        up.focus();
      });
      down.addEventListener("click", () => {
        if (item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
        down.focus();
      });
      item.append(up, down);
      if (hadFocus) up.focus();
    }
  }

  /* The answer a poll's form holds now, in the shape the socket's `answer` carries. */
  function read(form, poll) {
    if (poll.kind === "single" || poll.kind === "rating") {
      const c = form.querySelector("input[name=value]:checked");
      return c ? Number(c.value) : null;
    }
    if (poll.kind === "multiple") return [...form.querySelectorAll("input[name=value]:checked")].map((c) => Number(c.value));
    if (poll.kind === "ranking") return [...form.querySelectorAll(".ranking li")].map((li) => Number(li.dataset.option));
    if (poll.kind === "word_cloud") {
      return [...form.querySelectorAll("input[type=text]")].map((i) => i.value.trim()).filter(Boolean);
    }
    return form.querySelector("textarea").value.trim();
  }

  /* A poll's form as the server renders it, for a poll that opened after the page loaded. */
  function formFor(poll, answer) {
    const form = el("form", { class: "poll-form", novalidate: "" });
    const name = `poll-${poll.id}`;
    if (poll.kind === "single") {
      form.append(choiceList(poll, "radio", answer));
    } else if (poll.kind === "multiple") {
      form.append(el("p", { class: "muted" }, fmt(S.chooseUpTo, { max: poll.settings.max_choices })));
      form.append(choiceList(poll, "checkbox", answer));
    } else if (poll.kind === "rating") {
      form.append(ratingList(poll, answer));
    } else if (poll.kind === "ranking") {
      form.append(el("p", { class: "muted" }, S.rankHelp));
      form.append(rankingList(poll, answer));
    } else if (poll.kind === "word_cloud") {
      const previous = Array.isArray(answer) ? answer : [];
      for (let i = 0; i < poll.settings.max_entries; i++) {
        const id = `${name}-${i}`;
        form.append(el("label", { for: id, class: "sr-only" }, fmt(S.wordLabel, { n: i + 1 })));
        const input = el("input", { type: "text", id, name: "value", maxlength: "40", autocomplete: "off" });
        input.value = previous[i] || "";
        form.append(input);
      }
      form.append(el("p", { class: "muted" }, S.wordHelp));
    } else {
      const id = `${name}-text`;
      form.append(el("label", { for: id, class: "sr-only" }, poll.question));
      const area = el("textarea", { id, name: "value", maxlength: "280" });
      area.value = typeof answer === "string" ? answer : "";
      form.append(area);
    }
    form.append(
      el("p", { class: "error", id: `${name}-error`, role: "alert" }),
      el("button", { type: "submit" }, answer === undefined ? S.submitAnswer : S.changeAnswer),
    );
    return enhance(form, poll);
  }

  /* Answers a poll's form over the socket; the controls stay as they are, the person's choice in them. */
  function enhance(form, poll) {
    const list = form.querySelector(".ranking");
    if (list && poll.kind === "ranking") rankable(list, poll);
    const error = form.querySelector(".error");
    const submit = form.querySelector("button[type=submit]");
    const status = el("p", { class: "muted poll-status" });
    form.append(status);
    let sending = false; /* a second tap while sending is ignored: disabling the button would drop focus */
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (sending) return;
      const value = read(form, poll);
      if (value === null || (Array.isArray(value) && value.length === 0) || value === "") {
        error.textContent = S.answerFirst;
        return;
      }
      sending = true;
      const reply = await ctx.submit("answer", { poll_id: poll.id, value, op_id: ctx.opId() });
      sending = false;
      if (!reply.ok) {
        error.textContent = liveI18n.refusal(reply.error);
        return;
      }
      error.textContent = "";
      ctx.answers[String(poll.id)] = { value: reply.data.value, counted: reply.data.counted };
      submit.textContent = S.changeAnswer;
      status.textContent = reply.data.counted ? S.answerSaved : S.answerHeld;
      ctx.answered(status.textContent);
    });
    return form;
  }

  /* What a card shows besides results: its state, and whether it has a form or a "join first" note. */
  function keyOf(state, canAnswer, joinFirst) {
    return `${state}:${canAnswer}:${joinFirst}`;
  }

  function rendered(node) {
    return keyOf(node.dataset.state, Boolean(node.querySelector("form.poll-form")), Boolean(node.querySelector(".join-first")));
  }

  function build(poll, canAnswer, joinFirst) {
    const node = el("article", { class: "poll", id: `poll-${poll.id}`, "data-state": poll.state, "aria-labelledby": `poll-${poll.id}-q` });
    node.append(el("h3", { id: `poll-${poll.id}-q`, tabindex: "-1" }, poll.question));
    node.append(el("p", { class: "muted" }, poll.state === "open" ? S.pollOpen : S.pollClosed));
    if (poll.audience === "in_room") node.append(el("p", { class: "badge" }, S.inRoomOnly));
    if (canAnswer) node.append(formFor(poll, (ctx.answers[String(poll.id)] || {}).value));
    if (joinFirst) {
      const note = el("p", { class: "muted join-first" });
      note.append(el("a", { href: "#join-form" }, S.joinToAnswer));
      node.append(note);
    }
    node.append(el("div", { class: "poll-results-slot" }));
    return node;
  }

  function render(state, context) {
    ctx = context;
    /* Open polls not yet answered first, as the server orders them: their controls lead the view. */
    const rank = (p) => [p.state === "open" ? 0 : 1, ctx.answers[String(p.id)] ? 1 : 0, -p.id];
    const polls = [...state.polls.values()].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
    const list = document.getElementById("poll-list");
    const focused = document.activeElement; /* moving a card blurs what is focused in it */
    const seen = new Set();
    polls.forEach((poll, index) => {
      seen.add(poll.id);
      let card = cards.get(poll.id);
      const canAnswer = poll.state === "open" && ctx.joined && (poll.audience === "everyone" || ctx.attendance === "in_room");
      const joinFirst = poll.state === "open" && !ctx.member && ctx.eventOpen;
      const key = keyOf(poll.state, canAnswer, joinFirst);
      const served = !card && document.getElementById(`poll-${poll.id}`);
      if (served && rendered(served) === key) {
        /* the server-rendered card is taken over in place: what the person chose or typed stays */
        const form = served.querySelector("form.poll-form");
        if (form) enhance(form, poll);
        card = { node: served, key, results: served.querySelector(".poll-results-slot"), rendered: null };
        cards.set(poll.id, card);
      } else if (!card || card.key !== key) {
        const node = build(poll, canAnswer, joinFirst);
        const old = card ? card.node : served;
        const hadFocus = old && old.contains(document.activeElement);
        if (old) old.replaceWith(node);
        if (hadFocus) node.querySelector("h3").focus();
        card = { node, key, results: node.querySelector(".poll-results-slot"), rendered: null };
        cards.set(poll.id, card);
      }
      const encoded = JSON.stringify(poll.results);
      if (card.rendered !== encoded) {
        card.results.replaceChildren(
          poll.results ? livePollResults.render(poll, S) : el("p", { class: "muted" }, S.resultsLater),
        );
        card.rendered = encoded;
      }
      if (list.children[index] !== card.node) list.insertBefore(card.node, list.children[index] || null);
    });
    for (const [id, card] of cards) {
      if (!seen.has(id)) {
        card.node.remove();
        cards.delete(id);
      }
    }
    for (const node of [...list.children]) {
      if (![...cards.values()].some((card) => card.node === node)) node.remove();
    }
    if (focused !== document.activeElement && focused.isConnected) focused.focus();
  }

  return { render };
})();
