"use strict";
/*
 * Keeps a client's copy of an event equal to the server's: a snapshot at a seq, then broadcasts
 * applied in order. A broadcast whose `prev` is ahead of our seq means we missed something,
 * so we fetch a fresh snapshot; broadcasts that arrive meanwhile are buffered, then replayed.
 */
window.liveSync = {
  /* Mirrors VISIBLE_STATUSES in live/domain/model.py. */
  VISIBLE: new Set(["published", "answered"]),

  create() {
    return {
      seq: -1,
      event: null,
      stage: null,
      questions: new Map(),
      polls: new Map(),
      resyncing: false,
      buffer: [],
    };
  },

  loadSnapshot(state, snapshot) {
    state.seq = snapshot.seq;
    state.event = snapshot.event;
    state.stage = snapshot.stage;
    state.questions = new Map(snapshot.questions.map((q) => [q.id, q]));
    state.polls = new Map((snapshot.polls || []).map((p) => [p.id, p]));
    const pending = state.buffer;
    state.buffer = [];
    state.resyncing = false;
    const added = [];
    for (const msg of pending) {
      const outcome = this.apply(state, msg);
      if (outcome.result === "gap") return { result: "gap", added };
      added.push(...outcome.added);
    }
    return { result: "applied", added };
  },

  /* Returns {result: "applied" | "stale" | "gap" | "buffered", added: [new visible questions]}. */
  apply(state, msg) {
    if (state.resyncing) {
      state.buffer.push(msg);
      return { result: "buffered", added: [] };
    }
    if (msg.seq <= state.seq) return { result: "stale", added: [] };
    if (msg.prev > state.seq) return { result: "gap", added: [] };
    const added = [];
    if (msg.type === "question") {
      const q = msg.question;
      if (this.VISIBLE.has(q.status)) {
        if (!state.questions.has(q.id)) added.push(q);
        state.questions.set(q.id, q);
      } else {
        state.questions.delete(q.id);
      }
    } else if (msg.type === "votes") {
      for (const [id, votes] of msg.counts) {
        const q = state.questions.get(id);
        if (q) state.questions.set(id, { ...q, votes });
      }
      for (const { id, results } of msg.polls || []) {
        const poll = state.polls.get(id);
        if (poll) state.polls.set(id, { ...poll, results });
      }
    } else if (msg.type === "poll") {
      state.polls.set(msg.poll.id, msg.poll);
    } else if (msg.type === "event") {
      state.event = msg.event;
    } else if (msg.type === "stage") {
      state.stage = msg.stage;
    }
    state.seq = msg.seq;
    return { result: "applied", added };
  },

  sorted(state, sort) {
    const list = [...state.questions.values()];
    if (sort === "recent") return list.sort((a, b) => b.id - a.id);
    return list.sort((a, b) => b.votes - a.votes || a.id - b.id);
  },
};
