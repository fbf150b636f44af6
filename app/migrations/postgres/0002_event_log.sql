-- The event log (transactional outbox): every change writes its events in the same
-- transaction. Each stream ('ws:<id>', 'user:<id>') has its own gap-free sequence,
-- handed out by bumping its row in stream_heads; the row lock that bump takes is held
-- until commit, so sequence order is commit order.
CREATE TABLE stream_heads (
    stream   TEXT    PRIMARY KEY,
    last_seq BIGINT  NOT NULL
);

CREATE TABLE events (
    stream     TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    -- The whole envelope as sent to clients, serialized once at write time.
    envelope   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX events_by_time ON events (created_at);
