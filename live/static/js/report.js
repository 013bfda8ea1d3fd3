"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  const $ = (id) => document.getElementById(id);
  const TOP_COUNT = 10;
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  const api = `/api/events/${encodeURIComponent(code)}`;
  $("record-link").href = `/e/${encodeURIComponent(code)}/record`;
  $("print").addEventListener("click", () => window.print());

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function figure(key, label, value, className) {
    const dd = el("dd", "", String(value));
    dd.dataset.figure = key;
    return [el("dt", className, label), dd];
  }

  function duration(seconds) {
    if (seconds === null) return S.none;
    return seconds < 120 ? fmt(S.seconds, { n: Math.round(seconds) }) : fmt(S.minutes, { n: Math.round(seconds / 60) });
  }

  function headline(record, report) {
    const b = report.balance;
    const values = {
      received: record.received,
      published: record.published,
      answered: record.answered,
      votes: b.in_room.votes + b.remote.votes,
      in_room: report.participants.in_room,
      remote: report.participants.remote,
      poll_answers: b.in_room.poll_answers + b.remote.poll_answers,
      before_start: report.asked_before_start,
    };
    const shown = Object.entries(S.figures).filter(([key]) => key !== "before_start" || values[key] > 0);
    $("headline").replaceChildren(...shown.flatMap(([key, label]) => figure(key, label, values[key])));
  }

  function outcome(q) {
    const lines = [el("p", "disposition", S.dispositions[q.disposition] || q.disposition)];
    if (q.disposition === "answered_in_writing") lines.push(el("p", "response", q.response));
    if (q.disposition === "declined") lines.push(el("p", "response", fmt(S.declinedBecause, { reason: q.response })));
    if (q.disposition === "referred") {
      const due = q.due_date ? ` (${fmt(S.due, { date: liveI18n.date(q.due_date) })})` : "";
      lines.push(el("p", "detail", fmt(S.referredTo, { body: q.referred_to }) + due));
    }
    return lines;
  }

  function topQuestions(questions) {
    const top = [...questions].sort((a, b) => b.votes - a.votes || a.id - b.id).slice(0, TOP_COUNT);
    $("no-questions").classList.toggle("hidden", top.length > 0);
    $("top-questions").replaceChildren(
      ...top.map((q) => {
        const li = el("li");
        li.dataset.id = q.id;
        li.dataset.disposition = q.disposition;
        const meta = [liveI18n.plural(S.votesOf, q.votes), S.attendance[q.attendance] || q.attendance].join(" · ");
        li.append(el("p", "q-text", q.text), el("p", "muted meta", meta), ...outcome(q));
        return li;
      }),
    );
  }

  function polls(list) {
    const shown = list.filter((poll) => poll.results !== null);
    $("no-polls").classList.toggle("hidden", shown.length > 0);
    $("report-polls").replaceChildren(
      ...shown.map((poll) => {
        const box = el("div", "poll");
        box.dataset.id = poll.id;
        box.append(el("h3", "", poll.question), livePollResults.render(poll, S));
        return box;
      }),
    );
  }

  function balance(b) {
    $("balance-rows").replaceChildren(
      ...Object.entries(S.balanceRows).map(([key, label]) => {
        const tr = el("tr");
        tr.dataset.row = key;
        const th = el("th", "", label);
        th.scope = "row";
        tr.append(th, el("td", "", String(b.in_room[key])), el("td", "", String(b.remote[key])));
        return tr;
      }),
    );
  }

  /* Questions from devices always; a channel a steward or moderator used, once it was used. */
  function channels(byChannel) {
    const used = Object.keys(S.channelNames).filter((c) => c === "device" || byChannel[c].questions > 0);
    $("channel-rows").replaceChildren(
      ...used.map((channel) => {
        const tr = el("tr");
        tr.dataset.channel = channel;
        const th = el("th", "", S.channelNames[channel]);
        th.scope = "row";
        const counts = byChannel[channel];
        tr.append(th, ...["questions", "published", "answered"].map((key) => el("td", "", String(counts[key]))));
        return tr;
      }),
    );
  }

  function moderation(record) {
    const items = [];
    for (const [key, label] of Object.entries(S.moderationFigures)) {
      const value = key === "median_seconds_to_decision" ? duration(record[key]) : record[key];
      items.push(...figure(key, label, value));
      if (key !== "withheld") continue;
      for (const [reason, count] of Object.entries(record.withheld_by_reason)) {
        if (count) items.push(...figure(reason, fmt(S.withheldBecause, { reason: S.reasons[reason] || reason }), count, "sub"));
      }
    }
    $("moderation").replaceChildren(...items);
  }

  async function load(address) {
    const res = await fetch(address);
    if (!res.ok) throw new Error(res.status === 404 ? "notFound" : "unreachable");
    return (await res.json()).data;
  }

  Promise.all([load(`${api}/record`), load(`${api}/record/questions`), load(`${api}/report`)])
    .then(([record, listed, report]) => {
      document.title = fmt(S.titleFor, { title: record.event.title });
      $("report-title").textContent = document.title;
      headline(record, report);
      topQuestions(listed.questions);
      polls(report.polls);
      balance(report.balance);
      channels(report.balance.channels);
      moderation(record);
    })
    .catch((err) => {
      $("report-error").textContent = err.message === "notFound" ? S.notFound : S.unreachable;
    });
})();
