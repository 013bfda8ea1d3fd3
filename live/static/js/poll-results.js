"use strict";
/*
 * Poll results for every page: bars (or a word cloud) for the eye, and beside them a text table
 * for screen readers. Text comes from the page's string table; user text only via textContent.
 */
window.livePollResults = (() => {
  const fmt = liveI18n.format;

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Rows of [label, everyone, in the room, online], in display order. */
  function rows(poll, r) {
    const at = (part) => r[part];
    if (poll.kind === "single" || poll.kind === "multiple") {
      return poll.options.map((o, i) => [o, at("all").counts[i], at("in_room").counts[i], at("remote").counts[i]]);
    }
    if (poll.kind === "rating") {
      return at("all").scale.map((s, i) => [String(s), at("all").counts[i], at("in_room").counts[i], at("remote").counts[i]]);
    }
    if (poll.kind === "ranking") {
      return poll.options
        .map((o, i) => [o, at("all").scores[i], at("in_room").scores[i], at("remote").scores[i]])
        .sort((a, b) => b[1] - a[1]);
    }
    const count = (part, word) => (at(part).words.find((w) => w[0] === word) || [word, 0])[1];
    return at("all").words.map(([w, n]) => [w, n, count("in_room", w), count("remote", w)]);
  }

  function bars(data) {
    const max = Math.max(1, ...data.map((row) => row[1]));
    const box = el("div", { class: "bars", "aria-hidden": "true" });
    for (const [label, value] of data) {
      const row = el("div", { class: "bar-row" });
      const track = el("span", { class: "bar-track" });
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.round((value / max) * 100)}%`;
      track.append(bar);
      row.append(el("span", { class: "bar-label" }, label), track, el("span", { class: "bar-value" }, String(value)));
      box.append(row);
    }
    return box;
  }

  function cloud(data) {
    const max = Math.max(1, ...data.map((row) => row[1]));
    const box = el("p", { class: "cloud", "aria-hidden": "true" });
    for (const [word, n] of data) {
      const span = el("span", { class: "cloud-word" }, word);
      span.style.fontSize = `${(0.9 + 1.6 * (n / max)).toFixed(2)}em`;
      box.append(span, " ");
    }
    return box;
  }

  function table(poll, data, S) {
    const node = el("table");
    node.append(el("caption", {}, fmt(S.resultsOf, { question: poll.question })));
    const head = el("tr");
    for (const h of [S.colOption, poll.kind === "ranking" ? S.colScore : S.colAll, S.colRoom, S.colRemote]) {
      head.append(el("th", { scope: "col" }, h));
    }
    node.append(head);
    for (const row of data) {
      const tr = el("tr");
      row.forEach((cell, i) => tr.append(el(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}, String(cell))));
      node.append(tr);
    }
    /* A table ignores its height, so a div out of sight clips it: a long table never stretches its box. */
    const hidden = el("div", { class: "sr-only" });
    hidden.append(node);
    return hidden;
  }

  function render(poll, S) {
    const r = poll.results;
    const box = el("div", { class: "poll-results" });
    box.append(el("p", { class: "muted responses" }, liveI18n.plural(S.responses, r.responses.all, {
      in_room: r.responses.in_room, remote: r.responses.remote,
    })));
    if (poll.kind === "open_text") {
      const list = el("ul", { class: "answers" });
      for (const text of r.all.answers) list.append(el("li", {}, text));
      box.append(list);
      return box;
    }
    if (poll.kind === "rating" && r.all.mean !== null) {
      box.append(el("p", { class: "mean" }, fmt(S.mean, { mean: r.all.mean })));
    }
    const data = rows(poll, r);
    box.append(poll.kind === "word_cloud" ? cloud(data) : bars(data), table(poll, data, S));
    return box;
  }

  return { render };
})();
