//! The WebSocket's frames and close codes: one typed definition for the server and the
//! browser client (docs/PROTOCOL.md mirrors it). The server writes event frames itself,
//! as the stored envelope with `"type":"event"` in front (`event_frame`), so an event
//! is serialized once for all its sockets; `parse_frame` reads them back.

use serde::{Deserialize, Serialize};

use super::{Cursor, Envelope, Stream};
use crate::json::{self, FromJson, JsonResult, Reader};
use crate::model::ids::UserId;

/// How every event frame begins: `type` first, then the envelope's fields.
const EVENT_FRAME_START: &str = "{\"type\":\"event\",";

/// The text of an event frame, from an envelope's stored JSON: `{"type":"event",…}`,
/// exactly what `ServerFrame::Event` serializes to, without parsing the envelope.
pub fn event_frame(envelope_json: &str) -> String {
    let body = envelope_json.strip_prefix('{').unwrap_or(envelope_json);
    format!("{EVENT_FRAME_START}{body}")
}

/// Reads a frame the server sent. An event frame (as `event_frame` writes it) is read
/// as its envelope, in place (`Envelope`'s own decoder skips the `type` key: one pass,
/// no buffering, no copy); the others by their derived form, which knows no event
/// frame: the derived reader of an internally tagged enum buffers the whole frame
/// first, and reading events that way compiled a second decoder of every event payload
/// into the WASM client.
pub fn parse_frame(text: &str) -> JsonResult<ServerFrame> {
    if text.starts_with(EVENT_FRAME_START) {
        json::from_str::<Envelope>(text).map(ServerFrame::Event)
    } else {
        json::from_str(text)
    }
}

/// What a client may send (JSON text frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Follow these streams from these cursors (also: resume after a reconnect).
    Subscribe { cursors: Vec<Cursor> },
    /// Stop following these streams.
    Unsubscribe { streams: Vec<Stream> },
    /// Answered by `ServerFrame::Pong` (for clients that cannot see WebSocket pings).
    Ping,
}

/// What the server sends besides events. Read by hand (below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// One event: the envelope, with `"type":"event"` added. Read by `parse_frame`,
    /// not by `ServerFrame`'s own reader.
    Event(Envelope),
    /// First frame after the upgrade.
    Hello {
        user_id: UserId,
        ping_ms: u64,
    },
    /// The answer to `subscribe`, after the replay of what the client missed.
    Subscribed {
        cursors: Vec<Cursor>,
        resync: Vec<Stream>,
        denied: Vec<Stream>,
    },
    /// These streams are no longer the user's to read (removed, workspace deleted).
    Revoked {
        streams: Vec<Stream>,
    },
    /// A frame was refused, whole; the socket stays open.
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong,
}

/// The reader (`json`) of every frame but an event's (`parse_frame`). By hand: the
/// derived reader of an internally tagged enum buffers the object into serde's
/// `Content` before it picks the variant. Reads the keys in any order.
impl FromJson for ServerFrame {
    fn read(r: &mut Reader<'_>) -> JsonResult<ServerFrame> {
        use json::{required, unknown};
        let (mut kind, mut user_id, mut ping_ms, mut cursors) = (None, None, None, None);
        let (mut resync, mut denied, mut streams, mut code, mut message) =
            (None, None, None, None, None);
        r.object(&mut |r, key| {
            match key {
                "type" => kind = Some(r.str()?),
                "user_id" => user_id = Some(UserId::read(r)?),
                "ping_ms" => ping_ms = Some(u64::read(r)?),
                "cursors" => cursors = Some(Vec::read(r)?),
                "resync" => resync = Some(Vec::read(r)?),
                "denied" => denied = Some(Vec::read(r)?),
                "streams" => streams = Some(Vec::read(r)?),
                "code" => code = Some(ErrorCode::read(r)?),
                "message" => message = Some(String::read(r)?),
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(match &*required(kind, "type")? {
            "hello" => ServerFrame::Hello {
                user_id: required(user_id, "user_id")?,
                ping_ms: required(ping_ms, "ping_ms")?,
            },
            "subscribed" => ServerFrame::Subscribed {
                cursors: required(cursors, "cursors")?,
                resync: required(resync, "resync")?,
                denied: required(denied, "denied")?,
            },
            "revoked" => ServerFrame::Revoked {
                streams: required(streams, "streams")?,
            },
            "error" => ServerFrame::Error {
                code: required(code, "code")?,
                message: required(message, "message")?,
            },
            "pong" => ServerFrame::Pong,
            // `event` too: an event frame is read as its envelope (`parse_frame`).
            other => return Err(unknown(r, other)),
        })
    }
}

/// Why a client frame was refused (`ServerFrame::Error`). Every one of them counts
/// towards the malformed-frame close (`close::PROTOCOL_ERROR`) except `Unavailable`,
/// which is the server's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadJson,
    UnknownFrame,
    BinaryFrame,
    BadCursor,
    TooManyStreams,
    Unavailable,
}

crate::json::json_enum!(ErrorCode {
    BadJson = "bad_json",
    UnknownFrame = "unknown_frame",
    BinaryFrame = "binary_frame",
    BadCursor = "bad_cursor",
    TooManyStreams = "too_many_streams",
    Unavailable = "unavailable",
});

/// Close codes of the live socket.
pub mod close {
    /// The server is shutting down, or the client answered no pings: reconnect.
    pub const GOING_AWAY: u16 = 1001;
    /// A text frame that is not UTF-8 (RFC 6455: inconsistent data).
    pub const INVALID_DATA: u16 = 1007;
    /// A frame over the size cap (the standard "message too big").
    pub const TOO_BIG: u16 = 1009;
    /// The session ended (token expired or revoked): log in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The client fell behind: reconnect and resume from your cursors.
    pub const RESUME: u16 = 4008;
    /// Too many frames (of any kind): slow down, then reconnect.
    pub const RATE_LIMITED: u16 = 4029;
    /// Too many refused frames.
    pub const PROTOCOL_ERROR: u16 = 4400;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::WorkspaceId;
    use serde_json::json;

    #[test]
    fn frames_have_the_documented_wire_form() {
        let sub: ClientFrame = serde_json::from_value(
            json!({"type": "subscribe", "cursors": [{"stream": "ws:3", "after": 12}]}),
        )
        .unwrap();
        assert_eq!(
            sub,
            ClientFrame::Subscribe {
                cursors: vec![Cursor {
                    stream: Stream::Workspace(WorkspaceId(3)),
                    after: 12
                }]
            }
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::Subscribed {
                cursors: vec![],
                resync: vec![Stream::User(UserId(1))],
                denied: vec![Stream::System],
            })
            .unwrap(),
            json!({"type": "subscribed", "cursors": [], "resync": ["user:1"], "denied": ["system"]})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::Error {
                code: ErrorCode::BadCursor,
                message: "m".into()
            })
            .unwrap(),
            json!({"type": "error", "code": "bad_cursor", "message": "m"})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::Pong).unwrap(),
            json!({"type": "pong"})
        );
        assert!(serde_json::from_value::<ClientFrame>(json!({"type": "launch"})).is_err());
    }

    /// Every frame of both directions, and every error code, reads back as itself, so
    /// neither side can write what the other cannot read. A new variant breaks the
    /// `match`es below until it is named there, a reminder to add it to the lists.
    #[test]
    fn every_frame_round_trips() {
        let cursor = Cursor {
            stream: Stream::Workspace(WorkspaceId(3)),
            after: 12,
        };
        let client = [
            ClientFrame::Subscribe {
                cursors: vec![cursor],
            },
            ClientFrame::Unsubscribe {
                streams: vec![Stream::User(UserId(4))],
            },
            ClientFrame::Ping,
        ];
        for frame in client {
            match &frame {
                ClientFrame::Subscribe { .. }
                | ClientFrame::Unsubscribe { .. }
                | ClientFrame::Ping => {}
            }
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(
                serde_json::from_str::<ClientFrame>(&text).unwrap(),
                frame,
                "{text}"
            );
        }
        let codes = [
            ErrorCode::BadJson,
            ErrorCode::UnknownFrame,
            ErrorCode::BinaryFrame,
            ErrorCode::BadCursor,
            ErrorCode::TooManyStreams,
            ErrorCode::Unavailable,
        ];
        let mut server = vec![
            ServerFrame::Event(crate::live::tests::sample_envelope()),
            ServerFrame::Hello {
                user_id: UserId(7),
                ping_ms: 25_000,
            },
            ServerFrame::Subscribed {
                cursors: vec![cursor],
                resync: vec![Stream::User(UserId(1))],
                denied: vec![Stream::Workspace(WorkspaceId(9))],
            },
            ServerFrame::Revoked {
                streams: vec![Stream::Workspace(WorkspaceId(9))],
            },
            ServerFrame::Pong,
        ];
        for code in codes {
            match code {
                ErrorCode::BadJson
                | ErrorCode::UnknownFrame
                | ErrorCode::BinaryFrame
                | ErrorCode::BadCursor
                | ErrorCode::TooManyStreams
                | ErrorCode::Unavailable => {}
            }
            server.push(ServerFrame::Error {
                code,
                message: "m".into(),
            });
        }
        for frame in server {
            match &frame {
                ServerFrame::Event(_)
                | ServerFrame::Hello { .. }
                | ServerFrame::Subscribed { .. }
                | ServerFrame::Revoked { .. }
                | ServerFrame::Error { .. }
                | ServerFrame::Pong => {}
            }
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(parse_frame(&text).unwrap(), frame, "{text}");
        }
    }

    /// `ServerFrame`'s reader takes the keys in any order (the server writes `type`
    /// first, another writer need not) and refuses a frame without a field its type
    /// needs, an unknown type, and an event frame (which `parse_frame` reads).
    #[test]
    fn frames_read_in_any_key_order_and_incomplete_ones_are_refused() {
        let read = |text: &str| json::from_str::<ServerFrame>(text);
        assert_eq!(
            read(r#"{"denied": ["system"], "cursors": [], "resync": [], "type": "subscribed"}"#)
                .unwrap(),
            ServerFrame::Subscribed {
                cursors: vec![],
                resync: vec![],
                denied: vec![Stream::System],
            }
        );
        assert_eq!(
            read(r#"{"ping_ms": 5, "new_key": true, "user_id": 2, "type": "hello"}"#).unwrap(),
            ServerFrame::Hello {
                user_id: UserId(2),
                ping_ms: 5
            }
        );
        let missing = read(r#"{"type": "hello", "user_id": 2}"#).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `ping_ms`"),
            "{missing}"
        );
        assert!(read(r#"{"type": "launch"}"#).is_err());
        assert!(read(r#"{"type": "error", "code": "no_such_code", "message": "m"}"#).is_err());
        let event = serde_json::to_string(&crate::live::tests::sample_envelope()).unwrap();
        assert!(read(&event_frame(&event)).is_err());
    }

    /// The event frames the server writes by hand read back as `ServerFrame::Event`.
    #[test]
    fn event_frames_read_as_events() {
        let envelope = crate::live::tests::sample_envelope();
        let frame = event_frame(&serde_json::to_string(&envelope).unwrap());
        assert_eq!(
            parse_frame(&frame).unwrap(),
            ServerFrame::Event(envelope.clone())
        );
        assert_eq!(
            serde_json::to_string(&ServerFrame::Event(envelope)).unwrap(),
            frame.as_str()
        );
    }
}
