//! Global object ids (`gid://orderdeck/Integration/42`) and opaque cursors.

use async_graphql::ID;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const PREFIX: &str = "gid://orderdeck/";

/// The global id of a row of `kind`.
pub fn encode(kind: &str, id: i64) -> ID {
    ID(format!("{PREFIX}{kind}/{id}"))
}

/// The row id in a global id of `kind`; `None` for anything else.
pub fn decode(kind: &str, gid: &ID) -> Option<i64> {
    let rest = gid
        .0
        .strip_prefix(PREFIX)?
        .strip_prefix(kind)?
        .strip_prefix('/')?;
    rest.parse::<i64>().ok().filter(|id| *id > 0)
}

/// An opaque cursor for keyset pagination by id.
pub fn cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

/// The id in a cursor made by [`cursor`].
pub fn decode_cursor(cursor: &str) -> async_graphql::Result<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("id:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| async_graphql::Error::new("`after` is not a cursor from this list."))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn global_ids_round_trip_only_for_their_own_kind() {
        let id = encode("Integration", 42);
        assert_eq!(id.0, "gid://orderdeck/Integration/42");
        assert_eq!(decode("Integration", &id), Some(42));
        assert_eq!(decode("User", &id), None);
        assert_eq!(decode("Integration", &ID("42".into())), None);
        assert_eq!(
            decode("Integration", &ID("gid://orderdeck/Integration/-1".into())),
            None
        );
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&cursor(7)).unwrap(), 7);
        assert!(decode_cursor("nonsense").is_err());
    }
}
