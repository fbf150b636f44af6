//! Ids of the things people and authorization rules talk about, as types of their own,
//! so a user id can never be passed where a workspace id is wanted (nor the reverse).
//!
//! On the wire and in SQL they are the plain integer they wrap (`#[serde(transparent)]`,
//! `#[sqlx(transparent)]`): the protocol, the forms and the schema are unchanged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// In a form's hidden field or a `data-` attribute: the number.
        impl leptos::prelude::IntoAttributeValue for $name {
            type Output = i64;
            fn into_attribute_value(self) -> i64 {
                self.0
            }
        }

        impl crate::json::FromJson for $name {
            fn read(r: &mut crate::json::Reader<'_>) -> crate::json::JsonResult<Self> {
                r.i64().map($name)
            }
        }

        /// Parses a positive id, as written in a URL or a stream key.
        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s.parse::<i64>() {
                    Ok(id) if id > 0 && !s.starts_with('+') => Ok($name(id)),
                    _ => Err(()),
                }
            }
        }
    };
}

id_type!(
    /// A person's account (`users.id`).
    UserId
);
id_type!(
    /// A shared workspace (`workspaces.id`).
    WorkspaceId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<WorkspaceId>("12").unwrap(),
            WorkspaceId(12)
        );
        assert_eq!(WorkspaceId(12).to_string(), "12");
    }

    #[test]
    fn only_positive_decimal_ids_parse() {
        assert_eq!("3".parse::<UserId>(), Ok(UserId(3)));
        for bad in [
            "0",
            "-1",
            "+3",
            "",
            "x",
            "3.0",
            " 3",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<WorkspaceId>().is_err(), "{bad:?} parsed");
        }
    }
}
