//! Reading template files: from a directory or the copies built into the binary, with every
//! fault reported as the file and the line.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::Spanned;

/// A template that cannot be used, with where the fault is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The file at fault.
    pub file: PathBuf,
    /// Its line (1-based), when one line is at fault.
    pub line: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "template {}, line {line}: {}",
                self.file.display(),
                self.message
            ),
            None => write!(f, "template {}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Where template files come from: a directory, or the copies built into the binary.
pub enum Source<'a> {
    /// A directory on disk (`templates/` by default).
    Dir(&'a Path),
    /// The defaults compiled in from this repository's `templates/`.
    Builtin,
}

const BUILTIN: &[(&str, &[u8])] = &[
    (
        "invoice.toml",
        include_bytes!("../../templates/invoice.toml"),
    ),
    ("label.toml", include_bytes!("../../templates/label.toml")),
    (
        "picklist.toml",
        include_bytes!("../../templates/picklist.toml"),
    ),
    (
        "packing_slip.toml",
        include_bytes!("../../templates/packing_slip.toml"),
    ),
    (
        "fonts/DejaVuSans.ttf",
        include_bytes!("../../templates/fonts/DejaVuSans.ttf"),
    ),
    (
        "fonts/DejaVuSans-Bold.ttf",
        include_bytes!("../../templates/fonts/DejaVuSans-Bold.ttf"),
    ),
];

impl Source<'_> {
    /// Whether `name` exists here (a directory made before a template was added may lack it).
    pub fn has(&self, name: &str) -> bool {
        match self {
            Source::Dir(dir) => dir.join(name).exists(),
            Source::Builtin => BUILTIN.iter().any(|(n, _)| *n == name),
        }
    }

    /// The path shown in messages.
    pub fn path(&self, name: &str) -> PathBuf {
        match self {
            Source::Dir(dir) => dir.join(name),
            Source::Builtin => PathBuf::from(format!("(built-in) templates/{name}")),
        }
    }

    /// The bytes of `name` (relative to the template directory).
    pub fn read(&self, name: &str) -> Result<Cow<'static, [u8]>, String> {
        match self {
            Source::Dir(dir) => std::fs::read(dir.join(name))
                .map(Cow::Owned)
                .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display())),
            Source::Builtin => BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| Cow::Borrowed(*b))
                .ok_or_else(|| format!("no built-in file {name}")),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Reads and checks one template file.
pub fn parse<T: serde::de::DeserializeOwned>(
    source: &Source<'_>,
    name: &str,
) -> Result<(T, String), TemplateError> {
    let file = source.path(name);
    let bytes = source.read(name).map_err(|message| TemplateError {
        file: file.clone(),
        line: None,
        message,
    })?;
    let text = String::from_utf8(bytes.into_owned()).map_err(|e| TemplateError {
        file: file.clone(),
        line: Some(line_of(
            &String::from_utf8_lossy(e.as_bytes()),
            e.utf8_error().valid_up_to(),
        )),
        message: "the file is not UTF-8 text".into(),
    })?;
    match toml::from_str::<T>(&text) {
        Ok(t) => Ok((t, text)),
        Err(e) => Err(TemplateError {
            file,
            line: e.span().map(|s| line_of(&text, s.start)),
            message: e.message().trim().to_string(),
        }),
    }
}

/// A fault at a spanned value of a template.
pub fn fault_at<T>(
    source: &Source<'_>,
    name: &str,
    text: &str,
    at: &Spanned<T>,
    message: impl Into<String>,
) -> TemplateError {
    TemplateError {
        file: source.path(name),
        line: Some(line_of(text, at.span().start)),
        message: message.into(),
    }
}

/// Checks that `value` uses no `{placeholder}` besides `allowed`.
pub fn check_placeholders(value: &str, allowed: &[&str]) -> Result<(), String> {
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{value:?} has a `{{` without `}}`"));
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Err(format!(
                "{value:?} uses {{{name}}}; only {} can be used here",
                allowed
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Checks a chrono date format.
pub fn check_date_format(value: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(value).any(|i| matches!(i, Item::Error)) {
        Err(format!(
            "{value:?} is not a valid date format (e.g. \"%Y-%m-%d\")"
        ))
    } else {
        Ok(())
    }
}
