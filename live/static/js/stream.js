"use strict";
/* Where the stream sits beside the questions there is room to play it: open it. */
(() => {
  const stream = document.getElementById("stream");
  if (stream && window.matchMedia("(min-width: 75rem)").matches) stream.open = true;
})();
