//! The live layer's shared half: the typed event catalog, streams and the wire
//! envelope, compiled into both the server and the WASM client so neither side spells
//! an event name by hand. The wire protocol is specified in `docs/PROTOCOL.md`.

pub mod catalog;
pub mod client;
pub mod follow;
pub mod poll;
pub mod protocol;

use serde::{Deserialize, Serialize};

use crate::model::ids::{UserId, WorkspaceId};

pub use catalog::{Event, EventKind, Priority};

/// A sequence of events with its own gap-free numbering: one per workspace (seen by
/// its current members) and one per user (seen by that user only). `System` carries
/// ephemeral broadcasts to every connected socket (announcements); it has no log, so
/// nothing on it is numbered, replayed or polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Workspace(WorkspaceId),
    User(UserId),
    System,
}

impl Stream {
    /// The wire form: `ws:<id>` or `user:<id>`.
    pub fn key(&self) -> String {
        match self {
            Stream::Workspace(id) => format!("ws:{id}"),
            Stream::User(id) => format!("user:{id}"),
            Stream::System => "system".to_owned(),
        }
    }

    pub fn parse(key: &str) -> Option<Stream> {
        if key == "system" {
            return Some(Stream::System);
        }
        let (kind, id) = key.split_once(':')?;
        match kind {
            "ws" => id.parse().ok().map(Stream::Workspace),
            "user" => id.parse().ok().map(Stream::User),
            _ => None,
        }
    }
}

impl Serialize for Stream {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Stream {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        Stream::parse(&key).ok_or_else(|| serde::de::Error::custom("unknown stream"))
    }
}

crate::json::json_parsed!(Stream, Stream::parse, "a stream");

/// What travels to clients: `{seq, stream, event, timestamp, priority, data}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// Position in `stream`; 0 for ephemeral events, which are not logged.
    pub seq: i64,
    pub stream: Stream,
    /// Unix milliseconds when the event was written.
    pub timestamp: i64,
    pub priority: Priority,
    #[serde(flatten)]
    pub event: Event,
}

/// Read by hand (`json`), in one pass: `data` is decoded with the payload type `event`
/// names (`Event::read`); `data` written before `event` is kept as its text until the
/// name is known. (serde's derived reader of a `flatten`ed field would buffer the whole
/// object into its `Content` first, and compiled a second decoder of every payload
/// into the WASM client.) serde reads it through this reader too (`serde_via_json!`).
impl crate::json::FromJson for Envelope {
    fn read(r: &mut crate::json::Reader<'_>) -> crate::json::JsonResult<Envelope> {
        use crate::json::{required, Reader};
        let (mut seq, mut stream, mut timestamp, mut priority) = (None, None, None, None);
        let mut kind = None;
        let mut event = None;
        let mut early = None;
        r.object(&mut |r, key| {
            match key {
                "seq" => seq = Some(i64::read(r)?),
                "stream" => stream = Some(Stream::read(r)?),
                "timestamp" => timestamp = Some(i64::read(r)?),
                "priority" => priority = Some(Priority::read(r)?),
                "event" => kind = Some(catalog::EventKind::read(r)?),
                "data" => match kind {
                    Some(k) => event = Some(Event::read(k, r)?),
                    None => early = Some(r.raw()?),
                },
                _ => r.skip()?,
            }
            Ok(())
        })?;
        let kind = required(kind, "event")?;
        let event = match (event, early) {
            (Some(e), _) => e,
            (None, Some(raw)) => Event::read(kind, &mut Reader::new(raw))?,
            (None, None) => required(None, "data")?,
        };
        Ok(Envelope {
            seq: required(seq, "seq")?,
            stream: required(stream, "stream")?,
            timestamp: required(timestamp, "timestamp")?,
            priority: required(priority, "priority")?,
            event,
        })
    }
}

crate::json::serde_via_json!(Envelope);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::live::catalog::ExpenseGone;

    /// `expense:deleted` #9 as event 12 of `ws:3`: the envelope the wire-form tests use.
    pub(crate) fn sample_envelope() -> Envelope {
        Envelope {
            seq: 12,
            stream: Stream::Workspace(WorkspaceId(3)),
            timestamp: 1_700_000_000_000,
            priority: Priority::Normal,
            event: Event::ExpenseDeleted(ExpenseGone { id: 9, was: None }),
        }
    }

    #[test]
    fn envelope_wire_form() {
        let env = sample_envelope();
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq": 12, "stream": "ws:3", "timestamp": 1_700_000_000_000i64,
                "priority": "normal", "event": "expense:deleted", "data": {"id": 9}})
        );
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
    }

    /// Written by the server, `data` follows `event`; read in any order all the same,
    /// and an envelope without its event, or with one the catalog lacks, is refused.
    #[test]
    fn an_envelope_reads_in_any_key_order() {
        let env = sample_envelope();
        let data_first = r#"{"data":{"id":9},"priority":"normal","seq":12,"event":"expense:deleted","timestamp":1700000000000,"stream":"ws:3","extra":[1]}"#;
        assert_eq!(crate::json::from_str::<Envelope>(data_first).unwrap(), env);
        let written = serde_json::to_string(&env).unwrap();
        assert_eq!(crate::json::from_str::<Envelope>(&written).unwrap(), env);
        let unknown = written.replace("expense:deleted", "expense:exploded");
        assert!(crate::json::from_str::<Envelope>(&unknown).is_err());
        let no_event =
            r#"{"seq":1,"stream":"ws:3","timestamp":0,"priority":"normal","data":{"id":9}}"#;
        assert!(crate::json::from_str::<Envelope>(no_event).is_err());
        let wrong_payload = written.replace(r#"{"id":9}"#, r#"{"name":"x"}"#);
        assert!(crate::json::from_str::<Envelope>(&wrong_payload).is_err());
    }

    #[test]
    fn access_changes_come_from_the_kind_not_the_text() {
        use crate::live::catalog::{MemberGone, WorkspaceInfo};
        let json = |event: Event| {
            serde_json::to_string(&Envelope {
                seq: 1,
                stream: Stream::Workspace(WorkspaceId(3)),
                timestamp: 0,
                priority: Priority::Normal,
                event,
            })
            .unwrap()
        };
        let left = json(Event::MemberLeft(MemberGone { user_id: UserId(7) }));
        assert_eq!(
            access_change("member:left", &left),
            Some(AccessChange::Left(UserId(7)))
        );
        let deleted = json(Event::WorkspaceDeleted(WorkspaceInfo {
            id: WorkspaceId(3),
            name: "member:left".into(),
        }));
        assert_eq!(
            access_change("workspace:deleted", &deleted),
            Some(AccessChange::Closed)
        );
        // A payload that spells another kind's name changes nothing.
        let renamed = json(Event::WorkspaceUpdated(WorkspaceInfo {
            id: WorkspaceId(3),
            name: "\"workspace:deleted\" \"member:left\"".into(),
        }));
        assert_eq!(access_change("workspace:updated", &renamed), None);
        assert_eq!(access_change("expense:deleted", &left), None);
        assert_eq!(access_change("no:such-kind", &left), None);
    }

    #[test]
    fn streams_parse_strictly() {
        assert_eq!(
            Stream::parse("ws:3"),
            Some(Stream::Workspace(WorkspaceId(3)))
        );
        assert_eq!(Stream::parse("user:8"), Some(Stream::User(UserId(8))));
        assert_eq!(Stream::parse("system"), Some(Stream::System));
        assert_eq!(Stream::System.key(), "system");
        for bad in [
            "ws:", "ws:-1", "ws:0", "team:3", "ws3", "user:x", "", "system:1",
        ] {
            assert_eq!(Stream::parse(bad), None, "{bad}");
        }
    }
}

/// What an event does to who may read its stream. Decided from the event's kind, never
/// from its text: a description that reads `workspace:deleted` is only a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// This user is no longer a member: nothing after this event is theirs to read
    /// (nor the event itself, which concerns them).
    Left(UserId),
    /// The workspace was deleted: this event is the last anyone reads of the stream.
    Closed,
}

/// The access change a logged event makes, from its stored kind (wire name) and, for
/// `member:left` only, its payload.
pub fn access_change(kind: &str, envelope_json: &str) -> Option<AccessChange> {
    match EventKind::from_name(kind)? {
        EventKind::WorkspaceDeleted => Some(AccessChange::Closed),
        EventKind::MemberLeft => match crate::json::from_str::<Envelope>(envelope_json) {
            Ok(Envelope {
                event: Event::MemberLeft(gone),
                ..
            }) => Some(AccessChange::Left(gone.user_id)),
            _ => None,
        },
        _ => None,
    }
}

/// A client's position in one stream: it has seen every event up to `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub stream: Stream,
    pub after: i64,
}
crate::json::json_struct!(Cursor { stream, after });

/// The answer to a poll: the events after the given cursors, oldest first per stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResponse {
    pub events: Vec<Envelope>,
    /// Where each stream stands after these events (the cursors to send next time).
    pub cursors: Vec<Cursor>,
    /// Streams whose cursor is older than the log's retention: reload their lists.
    pub resync: Vec<Stream>,
    /// Streams the caller may not read (not, or no longer, a member).
    pub denied: Vec<Stream>,
    /// True when some stream has more events than were returned: poll again at once.
    pub more: bool,
}
crate::json::json_struct!(PollResponse {
    events,
    cursors,
    resync,
    denied,
    more
});

/// At most this many streams per poll, and events per stream per poll.
pub const MAX_POLL_STREAMS: usize = 64;
pub const MAX_POLL_EVENTS: i64 = 500;
/// At most this many events in one poll's answer, all streams together; past it the
/// answer says `more` and the streams not reached keep their cursors.
pub const MAX_POLL_TOTAL: i64 = 2_000;
