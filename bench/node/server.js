// The reference target: Node's own socket.io (default `ws` engine, long-polling allowed), speaking
// exactly the commands, acks and broadcasts of bench/baseline_server.py, state in memory, written
// the way the library's documentation writes it: `io.to(room).emit` and ack callbacks.
"use strict";

const { createServer } = require("node:http");
const { parseArgs } = require("node:util");
const { Server } = require("socket.io");

const ROOM = "event";
const FLUSH_INTERVAL_MS = 100;
const COMMANDS = new Set(["join", "snapshot", "ask", "upvote", "unvote"]);

const { values: args } = parseArgs({
  options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string" } },
});
if (!args.port) {
  console.error("usage: node server.js --port PORT [--host HOST]");
  process.exit(2);
}

const httpServer = createServer();
const io = new Server(httpServer);

const state = {
  seq: 0,
  questions: new Map(),
  voters: new Map(),
  pending: new Map(),
  pendingPrev: null,
  flushing: false,
  nextParticipant: 0,
  sorted: null,
};

function fail(code, message) {
  return { ok: false, error: { code, message } };
}

function flush() {
  const counts = [...state.pending];
  const prev = state.pendingPrev;
  state.pending = new Map();
  state.pendingPrev = null;
  state.flushing = false;
  io.to(ROOM).emit("update", { seq: state.seq, prev, type: "votes", counts });
}

function snapshotQuestions() {
  if (state.sorted === null || state.sorted.seq !== state.seq) {
    const questions = [...state.questions.values()].sort((a, b) => b.votes - a.votes);
    state.sorted = { seq: state.seq, questions };
  }
  return state.sorted.questions;
}

function vote(me, payload, up) {
  const qid = payload && payload.question_id;
  const voters = state.voters.get(qid);
  if (voters === undefined) {
    return fail("not_found", "no such question");
  }
  const who = me ? me.id : 0;
  if (up !== voters.has(who)) {
    if (up) voters.add(who);
    else voters.delete(who);
    state.seq += 1;
    if (state.pendingPrev === null) state.pendingPrev = state.seq - 1;
    state.questions.get(qid).votes = voters.size;
    state.pending.set(qid, voters.size);
    if (!state.flushing) {
      state.flushing = true;
      setTimeout(flush, FLUSH_INTERVAL_MS);
    }
  }
  return { ok: true, data: { question_id: qid, voted: up, votes: voters.size } };
}

io.on("connection", (socket) => {
  let me = null;
  socket.join(ROOM);

  socket.on("join", (payload, ack) => {
    state.nextParticipant += 1;
    me = {
      id: state.nextParticipant,
      name: payload ? payload.name : null,
      attendance: payload ? payload.attendance : null,
    };
    if (typeof ack === "function") ack({ ok: true, data: { me, token: socket.id } });
  });

  socket.on("snapshot", (_payload, ack) => {
    if (typeof ack !== "function") return;
    ack({
      ok: true,
      data: { seq: state.seq, event: { title: "baseline" }, questions: snapshotQuestions(), me },
    });
  });

  socket.on("ask", (payload, ack) => {
    state.seq += 1;
    const question = {
      id: state.questions.size + 1,
      text: payload ? payload.text : "",
      votes: 0,
      author_name: null,
      attendance: "remote",
      status: "published",
      created_at: Date.now() / 1000,
    };
    state.questions.set(question.id, question);
    state.voters.set(question.id, new Set());
    io.to(ROOM).emit("update", { seq: state.seq, prev: state.seq - 1, type: "question", question });
    if (typeof ack === "function") ack({ ok: true, data: { question } });
  });

  socket.on("upvote", (payload, ack) => {
    const reply = vote(me, payload, true);
    if (typeof ack === "function") ack(reply);
  });

  socket.on("unvote", (payload, ack) => {
    const reply = vote(me, payload, false);
    if (typeof ack === "function") ack(reply);
  });

  socket.onAny((event, ...rest) => {
    const ack = rest[rest.length - 1];
    if (!COMMANDS.has(event) && typeof ack === "function") ack(fail("invalid", String(event)));
  });
});

process.on("SIGINT", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));

httpServer.listen(Number(args.port), args.host, () => {
  console.log(`node socket.io serving on ${args.port}`);
});
