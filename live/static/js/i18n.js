"use strict";
/* The page's words: its section of the language's table, from the JSON the server put in the page. */
(() => {
  const island = document.getElementById("live-strings");
  if (island) window.liveStrings = JSON.parse(island.textContent);
  const lang = document.documentElement.lang || "en";
  const rules = new Intl.PluralRules(lang);
  const format = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
  window.liveI18n = {
    lang,
    /* Fills every [data-text] element from a string table (the staff pages' English tables). */
    apply(table, root = document) {
      for (const el of root.querySelectorAll("[data-text]")) {
        const text = table[el.dataset.text];
        if (text !== undefined) el.textContent = text;
      }
      for (const el of root.querySelectorAll("[data-placeholder]")) {
        const text = table[el.dataset.placeholder];
        if (text !== undefined) el.placeholder = text;
      }
    },
    format,
    /* A plural string's form for this count in the page's language, filled with {count} and values. */
    plural(forms, count, values = {}) {
      return format(forms[rules.select(count)] ?? forms.other, { count, ...values });
    },
    /* A refusal in the page's language: the table's words for its code, which may quote the
       protocol's own (English) message as {message}. */
    refusal(error) {
      return format(window.liveStrings.errors?.[error.code] ?? "{message}", error);
    },
    /* A time of day in the page's language. */
    time(date) {
      return date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    },
    /* A calendar date (YYYY-MM-DD) by the table's own month names: browsers' data lacks some languages'. */
    date(day) {
      const [year, month, date] = day.split("-").map(Number);
      const S = window.liveStrings;
      return format(S.date, { day: date, month: S.months[month - 1], year });
    },
  };
})();
