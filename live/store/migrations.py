"""Numbered schema migrations; PRAGMA user_version records how far a database has come."""

MIGRATIONS: list[str] = [
    # 1: events, participants, questions, votes, idempotent operations
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        stream_url TEXT,
        state TEXT NOT NULL DEFAULT 'open',
        seq INTEGER NOT NULL DEFAULT 0,
        moderator_secret_hash TEXT NOT NULL,
        screen_token_hash TEXT NOT NULL,
        demo INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT,
        attendance TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX participants_event ON participants(event_id);
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        participant_id INTEGER NOT NULL REFERENCES participants(id),
        text TEXT NOT NULL,
        author_name TEXT,
        attendance TEXT NOT NULL,
        status TEXT NOT NULL,
        votes INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX questions_event ON questions(event_id, status);
    CREATE INDEX questions_author ON questions(participant_id, created_at);
    CREATE TABLE votes (
        question_id INTEGER NOT NULL REFERENCES questions(id),
        participant_id INTEGER NOT NULL REFERENCES participants(id),
        created_at REAL NOT NULL,
        PRIMARY KEY (question_id, participant_id)
    ) WITHOUT ROWID;
    CREATE INDEX votes_participant ON votes(participant_id);
    CREATE TABLE operations (
        participant_id INTEGER NOT NULL REFERENCES participants(id),
        op_id TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (participant_id, op_id)
    ) WITHOUT ROWID;
    """,
]
