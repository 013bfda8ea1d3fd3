"use strict";
/* Fills every [data-text] element from a page's string table, so pages translate without logic changes. */
window.liveI18n = {
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
  format(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
  },
};
