"use strict";
window.liveStrings = {
  title: "Join an event",
  codeLabel: "Event code",
  go: "Join",
  codeHelp: "The code is shown on the big screen and in the livestream.",
  emptyCode: "Type the event code first.",
  notFound: "No event has the code {code}. Check it and try again.",
  unreachable: "The server cannot be reached. Check your connection and try again.",
};
