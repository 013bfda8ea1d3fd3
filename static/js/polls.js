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

  function choiceList(poll, type, name, answer) {
    const fieldset = el("fieldset");
    fieldset.append(el("legend", { class: "sr-only" }, poll.question));
    const box = el("div", { class: "choices vertical" });
    poll.options.forEach((option, index) => {
      const label = el("label");
      const input = el("input", { type, name, value: String(index) });
      if (Array.isArray(answer) ? answer.includes(index) : answer === index) input.checked = true;
      label.append(input, " ", el("span", {}, option));
      box.append(label);
    });
    fieldset.append(box);
    return fieldset;
  }

  function ratingList(poll, name, answer) {
    const fieldset = el("fieldset");
    fieldset.append(el("legend", { class: "sr-only" }, poll.question));
    const box = el("div", { class: "choices scale" });
    for (let v = poll.settings.scale_min; v <= poll.settings.scale_max; v++) {
      const label = el("label");
      const input = el("input", { type: "radio", name, value: String(v) });
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
      const up = el("button", { type: "button", class: "secondary small" }, S.moveUp);
      const down = el("button", { type: "button", class: "secondary small" }, S.moveDown);
      up.setAttribute("aria-label", fmt(S.moveUpLabel, { option: poll.options[index] }));
      down.setAttribute("aria-label", fmt(S.moveDownLabel, { option: poll.options[index] }));
      up.addEventListener("click", () => {
        if (item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
        up.focus();
      });
      down.addEventListener("click", () => {
        if (item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
        down.focus();
      });
      item.append(up, down);
      list.append(item);
    }
    return list;
  }

  function formFor(poll, answer) {
    const form = el("form", { class: "poll-form", novalidate: "" });
    const name = `poll-${poll.id}`;
    let read;
    if (poll.kind === "single") {
      form.append(choiceList(poll, "radio", name, answer));
      read = () => {
        const c = form.querySelector("input:checked");
        return c ? Number(c.value) : null;
      };
    } else if (poll.kind === "multiple") {
      form.append(el("p", { class: "muted" }, fmt(S.chooseUpTo, { max: poll.settings.max_choices })));
      form.append(choiceList(poll, "checkbox", name, answer));
      read = () => [...form.querySelectorAll("input:checked")].map((c) => Number(c.value));
    } else if (poll.kind === "rating") {
      form.append(ratingList(poll, name, answer));
      read = () => {
        const c = form.querySelector("input:checked");
        return c ? Number(c.value) : null;
      };
    } else if (poll.kind === "ranking") {
      form.append(el("p", { class: "muted" }, S.rankHelp));
      form.append(rankingList(poll, answer));
      read = () => [...form.querySelectorAll(".ranking li")].map((li) => Number(li.dataset.option));
    } else if (poll.kind === "word_cloud") {
      const max = poll.settings.max_entries;
      const previous = Array.isArray(answer) ? answer : [];
      for (let i = 0; i < max; i++) {
        const id = `${name}-${i}`;
        form.append(el("label", { for: id, class: "sr-only" }, fmt(S.wordLabel, { n: i + 1 })));
        const input = el("input", { type: "text", id, maxlength: "40", autocomplete: "off" });
        input.value = previous[i] || "";
        form.append(input);
      }
      form.append(el("p", { class: "muted" }, S.wordHelp));
      read = () => [...form.querySelectorAll("input[type=text]")].map((i) => i.value.trim()).filter(Boolean);
    } else {
      const id = `${name}-text`;
      form.append(el("label", { for: id, class: "sr-only" }, poll.question));
      const area = el("textarea", { id, maxlength: "280" });
      area.value = typeof answer === "string" ? answer : "";
      form.append(area);
      read = () => area.value.trim();
    }
    const error = el("p", { class: "error", role: "alert" });
    const status = el("p", { class: "muted poll-status", "aria-live": "polite" });
    const submit = el("button", { type: "submit" }, answer === undefined ? S.submitAnswer : S.changeAnswer);
    form.append(error, submit, status);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const value = read();
      if (value === null || (Array.isArray(value) && value.length === 0) || value === "") {
        error.textContent = S.answerFirst;
        return;
      }
      submit.disabled = true;
      const reply = await ctx.send("answer", { poll_id: poll.id, value, op_id: ctx.opId() });
      submit.disabled = false;
      if (!reply.ok) {
        error.textContent = reply.error.message;
        return;
      }
      error.textContent = "";
      ctx.answers[String(poll.id)] = { value: reply.data.value, counted: reply.data.counted };
      submit.textContent = S.changeAnswer;
      status.textContent = reply.data.counted ? S.answerSaved : S.answerHeld;
    });
    return form;
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
    if (cards.size === 0) list.replaceChildren(); /* the server-rendered polls give way to live ones */
    const seen = new Set();
    polls.forEach((poll, index) => {
      seen.add(poll.id);
      let card = cards.get(poll.id);
      const canAnswer = poll.state === "open" && ctx.joined && (poll.audience === "everyone" || ctx.attendance === "in_room");
      const joinFirst = poll.state === "open" && !ctx.member && ctx.eventOpen;
      const key = `${poll.state}:${canAnswer}:${joinFirst}`;
      if (!card || card.key !== key) {
        const node = el("article", { class: "poll", "aria-labelledby": `poll-${poll.id}-q` });
        node.append(el("h3", { id: `poll-${poll.id}-q` }, poll.question));
        node.append(el("p", { class: "muted" }, poll.state === "open" ? S.pollOpen : S.pollClosed));
        if (poll.audience === "in_room") node.append(el("p", { class: "badge" }, S.inRoomOnly));
        if (canAnswer) node.append(formFor(poll, (ctx.answers[String(poll.id)] || {}).value));
        if (joinFirst) {
          const note = el("p", { class: "muted join-first" });
          note.append(el("a", { href: "#join-form" }, S.joinToAnswer));
          node.append(note);
        }
        const results = el("div", { class: "poll-results-slot" });
        node.append(results);
        if (card) card.node.replaceWith(node);
        card = { node, key, results, rendered: null };
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
  }

  return { render };
})();
