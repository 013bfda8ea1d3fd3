"use strict";
/* Runs the browser's own sync.js in node: reads {snapshot, messages} on stdin, prints the state. */
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const sandbox = { window: {} };
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(path.join(__dirname, "../../live/static/js/sync.js"), "utf8"), sandbox);
const liveSync = sandbox.window.liveSync;

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const state = liveSync.create();
liveSync.loadSnapshot(state, input.snapshot);
const results = input.messages.map((msg) => liveSync.apply(state, msg).result);
process.stdout.write(
  JSON.stringify({
    seq: state.seq,
    event: state.event,
    questions: liveSync.sorted(state, "top"),
    polls: [...state.polls.values()].sort((a, b) => a.id - b.id),
    results,
  }),
);
