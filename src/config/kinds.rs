//! How each kind of setting is read from the file and from the environment, and shown in
//! `Debug` output (secrets masked).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{LogFormat, Registration};
use crate::secret::{redact_url, Secret};

/// How a setting is read: its type in the file, how its environment text is parsed (or what
/// it must be), and how `Debug` shows it.
pub(super) trait Kind {
    type Out: fmt::Debug;
    type File: DeserializeOwned;
    fn from_file(value: Self::File) -> Self::Out;
    fn from_env(text: &str) -> Result<Self::Out, &'static str>;
    fn show(value: &Self::Out) -> String {
        format!("{value:?}")
    }
}

macro_rules! kind {
    ($(#[doc = $doc:literal])* $name:ident: $out:ty, file $file:ty => $from_file:expr, env $from_env:expr $(, show $show:expr)?) => {
        $(#[doc = $doc])*
        pub(super) struct $name;
        impl Kind for $name {
            type Out = $out;
            type File = $file;
            fn from_file(value: $file) -> $out { ($from_file)(value) }
            fn from_env(text: &str) -> Result<$out, &'static str> { ($from_env)(text) }
            $( fn show(value: &$out) -> String { ($show)(value) } )?
        }
    };
}

kind!(/// Text as given.
    Text: String, file String => |v| v, env |t: &str| Ok(t.to_string()));
kind!(/// A file-system path.
    Dir: PathBuf, file PathBuf => |v| v, env |t: &str| Ok(PathBuf::from(t)));
kind!(/// Text that must never print.
    Hidden: Secret<String>, file String => Secret::new, env |t: &str| Ok(Secret::new(t.to_string())),
    show |_: &Secret<String>| "***".to_string());
kind!(/// A database URL: secret, shown with its password masked.
    DbUrl: Secret<String>, file String => Secret::new, env |t: &str| Ok(Secret::new(t.to_string())),
    show |v: &Secret<String>| redact_url(v.expose()));
kind!(/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off` in the environment).
Flag: bool, file bool => |v| v, env |t: &str| match t.trim().to_ascii_lowercase().as_str() {
    "true" | "1" | "yes" | "on" => Ok(true),
    "false" | "0" | "no" | "off" => Ok(false),
    _ => Err("true or false"),
});
kind!(/// A count; an environment value past `u32::MAX` is taken as `u32::MAX`.
    Count: u32, file u32 => |v| v, env |t| whole(t).map(|n| u32::try_from(n).unwrap_or(u32::MAX)));
kind!(/// A duration in whole seconds (keys ending in `_secs`).
    Secs: Duration, file u64 => Duration::from_secs, env |t| whole(t).map(Duration::from_secs));
kind!(/// A duration in whole milliseconds (keys ending in `_ms`).
    Millis: Duration, file u64 => Duration::from_millis, env |t| whole(t).map(Duration::from_millis));
kind!(/// `text` or `json` (any case in the environment).
Format: LogFormat, file LogFormat => |v| v, env |t: &str| match t.to_ascii_lowercase().as_str() {
    "text" => Ok(LogFormat::Text),
    "json" => Ok(LogFormat::Json),
    _ => Err("text or json"),
});

kind!(/// A list of texts: an array in the file, comma-separated in the environment (blanks
    /// dropped).
    List: Vec<String>, file Vec<String> => |v: Vec<String>| v.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
    env |t: &str| Ok(t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()));
kind!(/// `open`, `invite` or `closed` (any case in the environment).
Signup: Registration, file Registration => |v| v, env |t: &str| match t.to_ascii_lowercase().as_str() {
    "open" => Ok(Registration::Open),
    "invite" => Ok(Registration::Invite),
    "closed" => Ok(Registration::Closed),
    _ => Err("open, invite or closed"),
});

/// An optional setting of kind `K`: unset by default.
pub(super) struct Opt<K>(std::marker::PhantomData<K>);
impl<K: Kind> Kind for Opt<K> {
    type Out = Option<K::Out>;
    type File = K::File;
    fn from_file(value: K::File) -> Self::Out {
        Some(K::from_file(value))
    }
    fn from_env(text: &str) -> Result<Self::Out, &'static str> {
        K::from_env(text).map(Some)
    }
    fn show(value: &Self::Out) -> String {
        value.as_ref().map_or_else(|| "None".into(), K::show)
    }
}

fn whole(text: &str) -> Result<u64, &'static str> {
    text.trim().parse().map_err(|_| "a whole number")
}
