"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  const $ = (id) => document.getElementById(id);
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  const url = `/api/events/${encodeURIComponent(code)}/record`;
  $("json-link").href = url;
  $("report-link").href = `/e/${encodeURIComponent(code)}/report`;

  function duration(seconds) {
    if (seconds === null) return S.none;
    return seconds < 120 ? fmt(S.seconds, { n: Math.round(seconds) }) : fmt(S.minutes, { n: Math.round(seconds / 60) });
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function render(record) {
    document.title = fmt(S.titleFor, { title: record.event.title });
    $("record-title").textContent = document.title;
    const figures = [];
    for (const [key, label] of Object.entries(S.figures)) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.dataset.figure = key;
      dd.textContent = key === "median_seconds_to_decision" ? duration(record[key]) : String(record[key]);
      figures.push(dt, dd);
      if (key === "withheld") {
        for (const [reason, count] of Object.entries(record.withheld_by_reason)) {
          if (!count) continue;
          const rdt = document.createElement("dt");
          rdt.className = "sub";
          rdt.textContent = fmt(S.withheldBecause, { reason: S.reasons[reason] || reason });
          const rdd = document.createElement("dd");
          rdd.dataset.reason = reason;
          rdd.textContent = String(count);
          figures.push(rdt, rdd);
        }
      }
    }
    $("counts").replaceChildren(...figures);
    const rows = record.withheld_questions.map((q) => {
      const tr = document.createElement("tr");
      const reason = S.reasons[q.reason] || q.reason;
      const decided = q.decided_at === null ? null : q.decided_at - q.asked_at;
      tr.append(
        cell(liveI18n.time(new Date(q.asked_at * 1000))),
        cell(reason),
        cell(duration(decided)),
        cell(q.text === null ? fmt(S.hiddenText, { reason }) : q.text),
      );
      return tr;
    });
    $("withheld-rows").replaceChildren(...rows);
    $("withheld-table").classList.toggle("hidden", rows.length === 0);
    $("none-withheld").classList.toggle("hidden", rows.length > 0);
  }

  const questionsUrl = `/api/events/${encodeURIComponent(code)}/record/questions`;
  $("questions-json-link").href = questionsUrl;
  let questions = [];

  function options(select, table) {
    for (const [value, label] of Object.entries(table)) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      select.append(option);
    }
  }
  options($("filter-disposition"), S.dispositions);
  options($("filter-attendance"), S.attendance);
  options($("sort"), S.sorts);

  function clock(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${m}:${s}` : `${m}:${s}`;
  }

  function line(className, text) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function outcome(q) {
    const lines = [line("disposition", S.dispositions[q.disposition] || q.disposition)];
    if (q.disposition === "answered_live" && q.stream_time !== null) {
      lines.push(line("detail", fmt(S.answeredAt, { time: clock(q.stream_time) })));
    }
    if (q.disposition === "answered_in_writing") lines.push(line("response", q.response));
    if (q.disposition === "declined") lines.push(line("response", fmt(S.declinedBecause, { reason: q.response })));
    if (q.disposition === "referred") {
      const due = q.due_date ? ` (${fmt(S.due, { date: liveI18n.date(q.due_date) })})` : "";
      lines.push(line("detail", fmt(S.referredTo, { body: q.referred_to }) + due));
    }
    if (q.carried_to) lines.push(line("detail", fmt(S.carriedTo, { code: q.carried_to })));
    return lines;
  }

  function showQuestions() {
    const disposition = $("filter-disposition").value;
    const attendance = $("filter-attendance").value;
    const needle = $("filter-text").value.trim().toLowerCase();
    const order = {
      votes: (a, b) => b.votes - a.votes || a.id - b.id,
      newest: (a, b) => b.id - a.id,
      oldest: (a, b) => a.id - b.id,
    }[$("sort").value];
    const shown = questions
      .filter((q) => !disposition || q.disposition === disposition)
      .filter((q) => !attendance || q.attendance === attendance)
      .filter((q) => !needle || q.text.toLowerCase().includes(needle))
      .sort(order);
    $("questions-shown").textContent = shown.length
      ? liveI18n.plural(S.shown, questions.length, { shown: shown.length })
      : S.noQuestions;
    $("record-questions").replaceChildren(
      ...shown.map((q) => {
        const li = document.createElement("li");
        li.dataset.id = q.id;
        li.dataset.disposition = q.disposition;
        const meta = [
          liveI18n.plural(S.votes, q.votes),
          S.attendance[q.attendance] || q.attendance,
          q.author_name || S.anonymous,
        ];
        if (q.carried_from) meta.push(liveI18n.plural(S.carriedFrom, q.carried_votes));
        if (q.asked_before_start) meta.push(S.askedBefore);
        li.append(line("q-text", q.text), line("muted meta", meta.join(" · ")), ...outcome(q));
        return li;
      }),
    );
  }
  for (const id of ["filter-disposition", "filter-attendance", "sort"]) $(id).addEventListener("change", showQuestions);
  $("filter-text").addEventListener("input", showQuestions);

  async function load(address) {
    const res = await fetch(address);
    if (!res.ok) throw new Error(res.status === 404 ? "notFound" : "unreachable");
    return (await res.json()).data;
  }

  Promise.all([load(url), load(questionsUrl)])
    .then(([record, listed]) => {
      render(record);
      questions = listed.questions;
      showQuestions();
    })
    .catch((err) => {
      $("record-error").textContent = err.message === "notFound" ? S.notFound : S.unreachable;
    });
})();
