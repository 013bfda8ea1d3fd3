"use strict";
window.liveStrings = {
  connecting: "Connecting…",
  online: "Live",
  reconnecting: "Reconnecting…",
  onScreen: "Now answering",
  noFocus: "Ask your questions now: scan the code or go to the link.",
  code: "Code",
  top: "Top questions",
  votes: "{count} ▲",
  anonymous: "Anonymous",
  inRoom: "in the room",
  remote: "online",
  author: "{name}, {where}",
  answered: "answered",
  needToken: "This screen needs its private link (with #token=…), printed when the event was created.",
  qrAlt: "QR code for {url}",
};
