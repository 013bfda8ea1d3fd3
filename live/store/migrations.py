"""Numbered schema migrations, one list for both stores.

SQLite's PRAGMA user_version, or PostgreSQL's schema_migrations table, records how far a database
has come. A new migration is appended at the end and written in SQLite's SQL; `dialect.postgres_ddl`
turns it into PostgreSQL's (identity ids, DOUBLE PRECISION for REAL, no WITHOUT ROWID, lower() for
COLLATE NOCASE). Where the two must differ beyond that (triggers, JSON functions, data fixes), the
migration is a dict with a "sqlite" and a "postgresql" script. `tests/test_migrations.py` applies
every migration to both stores.
"""

from live.store.dialect import POSTGRESQL, SQLITE, postgres_ddl

Migration = str | dict[str, str]

#: Migration 13's function: `questions.vote` on SQLite, as one statement for PostgreSQL, where
#: every statement is a round trip and a storm brings thousands of votes a second. It takes the
#: write lock, then the votes of one event (a batch's, or one alone) as a set: their acks and
#: targets in one query, the rows added and removed in one statement, each changed question's
#: count derived from its rows once and the event's seq advanced once, in the same transaction;
#: every vote gets its own seq, in order, and its question's count after them all. One person's
#: votes on one question in one batch would depend on their order: the function refuses such a
#: batch, and the writer runs its units one by one. It applies a vote where the rule holds (an
#: open event, a visible question, not one's own); the caller names the refusal of one it did
#: not apply, from the target it returns.
_VOTE_FUNCTION = """
    CREATE FUNCTION live_votes(
        p_lock BIGINT, p_event INTEGER, p_open TEXT, p_visible TEXT[], p_question INTEGER[],
        p_participant INTEGER[], p_up BOOLEAN[], p_command TEXT[], p_op TEXT[],
        p_now DOUBLE PRECISION[]
    ) RETURNS TABLE (
        r_used_for TEXT, r_prior TEXT, r_state TEXT, r_event INTEGER, r_author INTEGER,
        r_status TEXT, r_applied BOOLEAN, r_changed BOOLEAN, r_seq INTEGER, r_votes INTEGER
    ) LANGUAGE plpgsql AS $$
    DECLARE
        s_state TEXT;
        a_used_for TEXT[];
        a_prior TEXT[];
        a_event INTEGER[];
        a_author INTEGER[];
        a_status TEXT[];
        a_votes INTEGER[];
        a_applied BOOLEAN[];
        a_changed BOOLEAN[];
        touched INTEGER[];
        counted INTEGER[];
        changes INTEGER;
        next_seq INTEGER;
    BEGIN
        PERFORM pg_advisory_xact_lock(p_lock);
        IF (SELECT count(DISTINCT (u.p, u.q)) < count(*)
                FROM unnest(p_participant, p_question) AS u(p, q)) THEN
            RAISE EXCEPTION 'one participant''s votes on one question must run one by one';
        END IF;
        SELECT e.state INTO s_state FROM events e WHERE e.id = p_event;
        WITH u AS (
            SELECT * FROM unnest(p_question, p_participant, p_up, p_op, p_now)
                WITH ORDINALITY AS u(q, p, up, op, at, i)
        ), t AS (
            SELECT u.*, o.command AS used_for, o.result AS prior, x.event_id AS ev,
                x.participant_id AS author, x.status, x.votes,
                coalesce(o.command IS NULL AND s_state = p_open AND x.event_id IS NOT NULL
                    AND x.status = ANY(p_visible) AND x.participant_id <> u.p, false) AS ok
            FROM u LEFT JOIN operations o ON o.participant_id = u.p AND o.op_id = u.op
            LEFT JOIN questions x ON x.id = u.q AND x.event_id = p_event
        ), ins AS (
            INSERT INTO votes (question_id, participant_id, created_at)
                SELECT t.q, t.p, t.at FROM t WHERE t.ok AND t.up
                ON CONFLICT DO NOTHING RETURNING question_id, participant_id
        ), del AS (
            DELETE FROM votes v USING t WHERE t.ok AND NOT t.up AND v.participant_id = t.p
                AND (v.question_id = t.q OR v.question_id IN
                (SELECT m.id FROM questions m WHERE m.merged_into = t.q))
                RETURNING t.i
        )
        SELECT array_agg(t.used_for ORDER BY t.i), array_agg(t.prior ORDER BY t.i),
            array_agg(t.ev ORDER BY t.i), array_agg(t.author ORDER BY t.i),
            array_agg(t.status ORDER BY t.i), array_agg(t.votes ORDER BY t.i),
            array_agg(t.ok ORDER BY t.i),
            array_agg(ins.question_id IS NOT NULL OR d.i IS NOT NULL ORDER BY t.i)
            INTO a_used_for, a_prior, a_event, a_author, a_status, a_votes, a_applied, a_changed
            FROM t LEFT JOIN ins ON ins.question_id = t.q AND ins.participant_id = t.p
            LEFT JOIN (SELECT DISTINCT del.i FROM del) d ON d.i = t.i;
        SELECT count(*) FILTER (WHERE c), coalesce(array_agg(DISTINCT q) FILTER (WHERE c), '{}')
            INTO changes, touched FROM unnest(a_changed, p_question) AS x(c, q);
        IF changes > 0 THEN
            UPDATE events SET seq = seq + changes WHERE id = p_event
                RETURNING seq - changes INTO next_seq;
        END IF;
        WITH r AS (
            UPDATE questions SET votes = CASE WHEN EXISTS
                (SELECT 1 FROM questions m WHERE m.merged_into = questions.id)
                THEN (SELECT count(DISTINCT v.participant_id) FROM votes v
                JOIN questions x ON x.id = v.question_id
                WHERE (x.id = questions.id OR x.merged_into = questions.id)
                AND v.participant_id != questions.participant_id)
                ELSE (SELECT count(*) FROM votes v WHERE v.question_id = questions.id) - CASE
                WHEN EXISTS (SELECT 1 FROM votes v WHERE v.question_id = questions.id
                AND v.participant_id = questions.participant_id) THEN 1 ELSE 0 END END
                WHERE questions.id = ANY(touched) RETURNING questions.id, questions.votes
        )
        SELECT coalesce(array_agg(r.id), '{}'), coalesce(array_agg(r.votes), '{}')
            INTO touched, counted FROM r;
        INSERT INTO operations (participant_id, op_id, command, result, created_at)
            SELECT u.p, u.op, u.cmd, json_build_object('question_id', u.q, 'voted', u.up,
                'votes', coalesce(c.v, u.v))::text, u.at
            FROM unnest(p_participant, p_op, p_command, p_question, p_up, a_votes, a_applied,
                p_now) AS u(p, op, cmd, q, up, v, ok, at)
            LEFT JOIN unnest(touched, counted) AS c(q, v) ON c.q = u.q
            WHERE u.ok AND u.op IS NOT NULL;
        RETURN QUERY
            SELECT u.used_for, u.prior, s_state, u.ev, u.author, u.status, u.ok, u.ch,
                CASE WHEN u.ch THEN
                    next_seq + (count(*) FILTER (WHERE u.ch) OVER (ORDER BY u.i))::INTEGER END,
                coalesce(c.v, u.v)
            FROM unnest(a_used_for, a_prior, a_event, a_author, a_status, a_applied, a_changed,
                a_votes, p_question) WITH ORDINALITY AS u(used_for, prior, ev, author, status,
                ok, ch, v, q, i)
            LEFT JOIN unnest(touched, counted) AS c(q, v) ON c.q = u.q
            ORDER BY u.i;
    END $$;
"""

#: Migration 2 without its append-only triggers, which each dialect writes its own way.
_MODERATION = """
    ALTER TABLE events ADD COLUMN moderation_mode TEXT NOT NULL DEFAULT 'post';
    ALTER TABLE events ADD COLUMN blocked_terms TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE events ADD COLUMN disabled_filters TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE events ADD COLUMN focus_question_id INTEGER REFERENCES questions(id);
    ALTER TABLE participants ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE questions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE questions ADD COLUMN reason TEXT;
    ALTER TABLE questions ADD COLUMN note TEXT;
    ALTER TABLE questions ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE questions ADD COLUMN original_text TEXT;
    ALTER TABLE questions ADD COLUMN duplicate_of INTEGER REFERENCES questions(id);
    ALTER TABLE questions ADD COLUMN merged_into INTEGER REFERENCES questions(id);
    ALTER TABLE questions ADD COLUMN merged_from_status TEXT;
    ALTER TABLE questions ADD COLUMN topic TEXT;
    ALTER TABLE questions ADD COLUMN decided_at REAL;
    CREATE INDEX questions_merged ON questions(merged_into);
    CREATE TABLE moderator_sessions (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        token_hash TEXT NOT NULL UNIQUE,
        pseudonym TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX moderator_sessions_event ON moderator_sessions(event_id);
    CREATE TABLE moderation_log (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        at REAL NOT NULL,
        moderator TEXT NOT NULL,
        action TEXT NOT NULL,
        question_id INTEGER REFERENCES questions(id),
        participant_id INTEGER REFERENCES participants(id),
        reason TEXT,
        note TEXT,
        before_text TEXT,
        after_text TEXT,
        details TEXT
    );
    CREATE INDEX moderation_log_event ON moderation_log(event_id, id);
    """

MIGRATIONS: list[Migration] = [
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
    # 2: moderation: modes, filter settings, review states, optimistic versions, moderator
    #    sessions, the append-only moderation log and the event's focus on the big screen
    {
        SQLITE: _MODERATION
    + """
    CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log
    BEGIN SELECT RAISE(ABORT, 'the moderation log is append-only'); END;
    CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log
    BEGIN SELECT RAISE(ABORT, 'the moderation log is append-only'); END;
    """,
        POSTGRESQL: _MODERATION
    + """
    CREATE FUNCTION moderation_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the moderation log is append-only'; END $$;
    CREATE TRIGGER moderation_log_no_change BEFORE UPDATE OR DELETE ON moderation_log
    FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only();
    """,
    },
    # 3: polls and their responses (one per participant per poll; changing it replaces it)
    """
    CREATE TABLE polls (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        kind TEXT NOT NULL,
        question TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '[]',
        settings TEXT NOT NULL DEFAULT '{}',
        audience TEXT NOT NULL DEFAULT 'everyone',
        visibility TEXT NOT NULL DEFAULT 'live',
        state TEXT NOT NULL DEFAULT 'draft',
        created_at REAL NOT NULL,
        opened_at REAL,
        closed_at REAL
    );
    CREATE INDEX polls_event ON polls(event_id, state);
    CREATE TABLE poll_responses (
        poll_id INTEGER NOT NULL REFERENCES polls(id),
        participant_id INTEGER NOT NULL REFERENCES participants(id),
        attendance TEXT NOT NULL,
        answer TEXT NOT NULL,
        counted INTEGER NOT NULL DEFAULT 1,
        reasons TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (poll_id, participant_id)
    ) WITHOUT ROWID;
    """,
    # 4: after the stream: each question's public disposition and response, series of events,
    #    questions carried into the next event, and authors' receipt addresses (kept apart)
    """
    ALTER TABLE events ADD COLUMN series TEXT;
    CREATE INDEX events_series ON events(series);
    ALTER TABLE questions ADD COLUMN disposition TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE questions ADD COLUMN stream_time INTEGER;
    ALTER TABLE questions ADD COLUMN response TEXT;
    ALTER TABLE questions ADD COLUMN referred_to TEXT;
    ALTER TABLE questions ADD COLUMN due_date TEXT;
    ALTER TABLE questions ADD COLUMN disposed_at REAL;
    ALTER TABLE questions ADD COLUMN carried_from INTEGER REFERENCES questions(id);
    ALTER TABLE questions ADD COLUMN carried_votes INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX questions_carried ON questions(event_id, carried_from)
        WHERE carried_from IS NOT NULL;
    CREATE TABLE receipt_addresses (
        participant_id INTEGER PRIMARY KEY REFERENCES participants(id),
        email TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 5: the balance of voices shown on the big screen when a moderator asks for it
    """
    ALTER TABLE events ADD COLUMN screen_balance INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: the command each stored ack answered, so an op_id reused on another command is refused;
    #    older acks get the command their result's shape shows ('' never matches: refused)
    {
        SQLITE: """
    ALTER TABLE operations ADD COLUMN command TEXT NOT NULL DEFAULT '';
    UPDATE operations SET command = CASE
        WHEN json_type(result, '$.question') = 'object' THEN 'ask'
        WHEN json_type(result, '$.poll_id') IS NOT NULL THEN 'answer'
        WHEN json_type(result, '$.voted') = 'true' THEN 'upvote'
        WHEN json_type(result, '$.voted') = 'false' THEN 'unvote'
        ELSE ''
    END;
    """,
        POSTGRESQL: """
    ALTER TABLE operations ADD COLUMN command TEXT NOT NULL DEFAULT '';
    UPDATE operations SET command = CASE
        WHEN json_typeof(result::json -> 'question') = 'object' THEN 'ask'
        WHEN result::json -> 'poll_id' IS NOT NULL THEN 'answer'
        WHEN (result::json ->> 'voted') = 'true' THEN 'upvote'
        WHEN (result::json ->> 'voted') = 'false' THEN 'unvote'
        ELSE ''
    END;
    """,
    },
    # 7: the salted hash of the address each participant joined from, for the join limit and
    #    the moderators' integrity view (participants from before have none)
    """
    ALTER TABLE participants ADD COLUMN address_hash TEXT;
    CREATE INDEX participants_address ON participants(event_id, address_hash, created_at);
    """,
    # 8: what the big screen's main area shows, chosen by a moderator: "auto" (an open poll, else
    #    the question in focus), "poll", "focus" or "both" side by side
    """
    ALTER TABLE events ADD COLUMN screen_mode TEXT NOT NULL DEFAULT 'auto';
    """,
    # 9: questions entered for people without a device: each question's channel, the event's
    #    steward secret (none for events from before, until an organiser sets one), steward
    #    sessions, and who entered which question (a steward's or a moderator's session)
    """
    ALTER TABLE questions ADD COLUMN channel TEXT NOT NULL DEFAULT 'device';
    ALTER TABLE events ADD COLUMN steward_secret_hash TEXT;
    CREATE TABLE steward_sessions (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        token_hash TEXT NOT NULL UNIQUE,
        pseudonym TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX steward_sessions_event ON steward_sessions(event_id);
    CREATE TABLE entries (
        question_id INTEGER PRIMARY KEY REFERENCES questions(id),
        event_id INTEGER NOT NULL REFERENCES events(id),
        steward_session_id INTEGER REFERENCES steward_sessions(id),
        moderator_session_id INTEGER REFERENCES moderator_sessions(id),
        created_at REAL NOT NULL
    );
    CREATE INDEX entries_steward ON entries(steward_session_id, created_at);
    """,
    # 10: named organiser accounts for the console (argon2 password hashes); a removed account
    #    keeps its row, so the log's names still mean someone, and frees its name
    """
    CREATE TABLE organisers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        removed_at REAL
    );
    CREATE UNIQUE INDEX organisers_name ON organisers(name COLLATE NOCASE)
        WHERE removed_at IS NULL;
    """,
    # 11: organisers' console sessions, stored as hashes of their cookie, revocable one by one
    """
    CREATE TABLE organiser_sessions (
        id INTEGER PRIMARY KEY,
        organiser_id INTEGER NOT NULL REFERENCES organisers(id),
        token_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX organiser_sessions_organiser ON organiser_sessions(organiser_id);
    """,
    # 12: when an event is scheduled, whether it takes questions before its start, the captions
    #    and sign-language links shown with its stream, and which questions came before the start
    """
    ALTER TABLE events ADD COLUMN starts_at REAL;
    ALTER TABLE events ADD COLUMN ends_at REAL;
    ALTER TABLE events ADD COLUMN advance_questions INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN captions_url TEXT;
    ALTER TABLE events ADD COLUMN sign_language_url TEXT;
    ALTER TABLE questions ADD COLUMN asked_before_start INTEGER NOT NULL DEFAULT 0;
    """,
    # 13: on PostgreSQL, a batch's votes in one statement (`questions.vote`); SQLite needs none
    {"sqlite": "SELECT 1", "postgresql": _VOTE_FUNCTION},
]


def script(migration: Migration, dialect: str) -> str:
    """The SQL one migration runs on one store."""
    text = migration if isinstance(migration, str) else migration[dialect]
    return postgres_ddl(text) if dialect == POSTGRESQL else text
