"use strict";
(() => {
  const S = window.liveStrings;
  const form = document.getElementById("join");
  const input = document.getElementById("code");
  const error = document.getElementById("code-error");
  input.focus();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = input.value.toUpperCase().replace(/[\s-]/g, "");
    error.textContent = "";
    if (!code) {
      error.textContent = S.emptyCode;
      return;
    }
    try {
      const res = await fetch(`/api/events/${encodeURIComponent(code)}`);
      if (res.ok) {
        location.assign(`/e/${encodeURIComponent(code)}`);
      } else {
        error.textContent = liveI18n.format(S.notFound, { code });
      }
    } catch {
      error.textContent = S.unreachable;
    }
  });
})();
