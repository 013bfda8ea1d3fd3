"use strict";
/* Before the start: scheduled times in the visitor's own time zone, and the Ask box at the start. */
(() => {
  const lang = document.documentElement.lang || undefined;
  const format = new Intl.DateTimeFormat(lang, {
    weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  for (const el of document.querySelectorAll("#schedule time[datetime]")) {
    el.textContent = format.format(new Date(el.dateTime));
  }
  const starts = document.getElementById("starts-at");
  const wait = starts ? Date.parse(starts.dateTime) - Date.now() : -1;
  if (wait > 0 && wait < 2 ** 31) {
    setTimeout(() => {
      for (const id of ["advance-note", "calendar-link"]) document.getElementById(id)?.closest("p").remove();
      document.dispatchEvent(new Event("live:started"));
    }, wait);
  }
})();
