"use strict";
(() => {
  const S = window.liveStrings;
  const fmt = liveI18n.format;
  liveI18n.apply(S);
  const $ = (id) => document.getElementById(id);
  const code = decodeURIComponent(location.pathname.split("/")[2] || "").toUpperCase();
  const url = `/api/events/${encodeURIComponent(code)}/record`;
  $("json-link").href = url;

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
        cell(new Date(q.asked_at * 1000).toLocaleTimeString()),
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

  fetch(url)
    .then(async (res) => {
      if (!res.ok) {
        $("record-error").textContent = S.notFound;
        return;
      }
      render((await res.json()).data);
    })
    .catch(() => {
      $("record-error").textContent = S.unreachable;
    });
})();
