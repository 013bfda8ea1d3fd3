"use strict";
/* Before the start: scheduled times in the visitor's own time zone, named in the page's language
   from the same table the server used (the section's data attributes), and the Ask box at the start. */
(() => {
  const section = document.getElementById("schedule");
  if (!section) return;
  const weekdays = section.dataset.weekdays.split("|");
  const months = section.dataset.months.split("|");
  const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
  for (const el of section.querySelectorAll("time[datetime]")) {
    const moment = new Date(el.dateTime);
    const part = (type) => clock.formatToParts(moment).find((p) => p.type === type).value;
    el.textContent = liveI18n.format(section.dataset.when, {
      weekday: weekdays[(moment.getDay() + 6) % 7], day: moment.getDate(), month: months[moment.getMonth()],
      year: moment.getFullYear(), time: `${part("hour")}:${part("minute")}`, zone: part("timeZoneName"),
    });
  }
  const wait = Date.parse(document.getElementById("starts-at").dateTime) - Date.now();
  if (wait > 0 && wait < 2 ** 31) {
    setTimeout(() => {
      for (const id of ["advance-note", "calendar-link"]) document.getElementById(id)?.closest("p").remove();
      document.dispatchEvent(new Event("live:started"));
    }, wait);
  }
})();
