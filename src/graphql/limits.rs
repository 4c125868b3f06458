//! What a GraphQL document may ask before it is executed, checked cheaply on every way a
//! document arrives (POST JSON, GET, multipart uploads).
//!
//! [`check_nesting`] runs on the raw text *before* the parser: async-graphql's parser bounds
//! nested selections but recurses into nested values (`[[[…]]]`, `{a:{a:…}}`) without a
//! limit, so a 4 KB document 2,000 levels deep would overflow the worker's stack and abort
//! the process. [`check_document`] runs on the parsed document: how many fields and
//! directives it writes, how many root fields (aliases included) an operation runs, and the
//! mutations that may appear only once per operation.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::parser::Positioned;
use async_graphql::Value as ConstValue;
use async_graphql_value::Value;

/// Deepest nesting of brackets, braces and parentheses (outside strings and comments)
/// accepted in a document. GraphiQL's introspection query reaches 15; a selection is limited
/// to [`super::MAX_DEPTH`] levels anyway.
pub const MAX_NESTING: usize = 64;
/// Most fields and directives written in one document (fragments counted once). GraphiQL's
/// introspection query writes about 100.
pub const MAX_FIELDS: usize = 1_000;
/// Most root fields one operation runs (each alias counts): a frontend asks for a handful;
/// thousands of aliased searches in one request are an attack on the database.
pub const MAX_ROOT_FIELDS: usize = 20;
/// Mutations that may run at most once per operation: each is a password guess or a claim,
/// and a proxy's per-request throttle must count them.
pub const ONCE_PER_OPERATION: [&str; 3] = ["login", "register", "claimBigCommerceInstallation"];
/// Most directives on one field (`@skip` and `@include` are the only ones).
pub const MAX_DIRECTIVES: usize = 4;
/// Most errors in one answer; the rest are summed up in one last error.
pub const MAX_ERRORS: usize = 20;
/// Longest error message sent (in characters); longer ones are cut.
pub const MAX_ERROR_CHARS: usize = 300;

/// Why a document is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nested deeper than [`MAX_NESTING`].
    NestingTooDeep,
    /// More than [`MAX_FIELDS`] fields and directives.
    TooManyFields(usize),
    /// An operation with more than [`MAX_ROOT_FIELDS`] root fields.
    TooManyRootFields(usize),
    /// A mutation of [`ONCE_PER_OPERATION`] twice in one operation.
    Repeated(&'static str),
    /// A query argument holding control characters, at this argument path.
    ControlCharacters(String),
}

impl Refusal {
    /// Stable code in `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NestingTooDeep => "NESTING_TOO_DEEP",
            Refusal::TooManyFields(_) => "TOO_MANY_FIELDS",
            Refusal::TooManyRootFields(_) => "TOO_MANY_ROOT_FIELDS",
            Refusal::Repeated(_) => "REPEATED_FIELD",
            Refusal::ControlCharacters(_) => "BAD_USER_INPUT",
        }
    }

    /// Plain message for people.
    pub fn message(&self) -> String {
        match self {
            Refusal::NestingTooDeep => format!(
                "The document nests brackets, braces or parentheses more than {MAX_NESTING} \
                 levels deep."
            ),
            Refusal::TooManyFields(n) => {
                format!("The document has {n} fields and directives; the limit is {MAX_FIELDS}.")
            }
            Refusal::TooManyRootFields(n) => format!(
                "The operation runs {n} root fields (aliases count); the limit is \
                 {MAX_ROOT_FIELDS}. Send several requests."
            ),
            Refusal::Repeated(name) => {
                format!("`{name}` may appear only once per operation.")
            }
            Refusal::ControlCharacters(path) => {
                format!("The argument `{path}` holds control characters; send plain text.")
            }
        }
    }
}

/// Refuses text nested deeper than [`MAX_NESTING`], in one pass over the bytes: strings
/// (`"…"` with escapes, `"""…"""`) and comments (`#` to the end of the line) are skipped.
pub fn check_nesting(text: &str) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal::NestingTooDeep);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Checks the parsed document: its size, each operation's root fields and the mutations
/// allowed once, and (for queries) that no argument holds control characters. `variables`
/// are the request's variables, for the arguments that use them.
pub fn check_document(
    doc: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Result<(), Refusal> {
    let written = doc
        .operations
        .iter()
        .map(|(_, op)| count_written(&op.node.selection_set.node))
        .chain(
            doc.fragments
                .values()
                .map(|f| count_written(&f.node.selection_set.node)),
        )
        .sum::<usize>();
    if written > MAX_FIELDS {
        return Err(Refusal::TooManyFields(written));
    }
    for (_, op) in doc.operations.iter() {
        let mut roots = Vec::new();
        let mut seen = HashSet::new();
        root_fields(doc, &op.node.selection_set, &mut seen, &mut roots);
        if roots.len() > MAX_ROOT_FIELDS {
            return Err(Refusal::TooManyRootFields(roots.len()));
        }
        if op.node.ty == OperationType::Mutation {
            for name in ONCE_PER_OPERATION {
                if roots.iter().filter(|f| f.name.node == name).count() > 1 {
                    return Err(Refusal::Repeated(name));
                }
            }
        } else {
            for field in &roots {
                for (arg, value) in &field.arguments {
                    plain_value(&value.node, variables, arg.node.as_str())?;
                }
            }
        }
    }
    Ok(())
}

/// Fields and directives written in a selection set, recursively (fragment spreads are not
/// followed: their definitions are counted once by the caller).
fn count_written(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| {
            item.node.directives().len()
                + match &item.node {
                    Selection::Field(f) => 1 + count_written(&f.node.selection_set.node),
                    Selection::InlineFragment(f) => count_written(&f.node.selection_set.node),
                    Selection::FragmentSpread(_) => 1,
                }
        })
        .sum()
}

/// The fields an operation runs at its root, through inline fragments and fragment spreads
/// (each fragment followed once: the document is not validated yet, so a cycle must not loop).
fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a Positioned<SelectionSet>,
    seen: &mut HashSet<&'a str>,
    out: &mut Vec<&'a async_graphql::parser::types::Field>,
) {
    for item in &set.node.items {
        match &item.node {
            Selection::Field(f) => out.push(&f.node),
            Selection::InlineFragment(f) => root_fields(doc, &f.node.selection_set, seen, out),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if seen.insert(name) {
                    if let Some(fragment) = doc.fragments.get(&s.node.fragment_name.node) {
                        root_fields(doc, &fragment.node.selection_set, seen, out);
                    }
                }
            }
        }
    }
}

/// Whether `c` is a control character refused in text (line breaks and tabs are handled by
/// the caller).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

fn plain_value(
    value: &Value,
    variables: &async_graphql::Variables,
    path: &str,
) -> Result<(), Refusal> {
    match value {
        Value::Variable(name) => match variables.get(name) {
            Some(v) => plain_const(v, path),
            None => Ok(()),
        },
        Value::String(s) if s.chars().any(is_control) => {
            Err(Refusal::ControlCharacters(path.to_string()))
        }
        Value::List(items) => items
            .iter()
            .try_for_each(|v| plain_value(v, variables, path)),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| plain_value(v, variables, &format!("{path}.{k}"))),
        _ => Ok(()),
    }
}

fn plain_const(value: &ConstValue, path: &str) -> Result<(), Refusal> {
    match value {
        ConstValue::String(s) if s.chars().any(is_control) => {
            Err(Refusal::ControlCharacters(path.to_string()))
        }
        ConstValue::List(items) => items.iter().try_for_each(|v| plain_const(v, path)),
        ConstValue::Object(fields) => fields
            .iter()
            .try_for_each(|(k, v)| plain_const(v, &format!("{path}.{k}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).unwrap()
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(70), "]".repeat(70));
        assert_eq!(check_nesting(&deep), Err(Refusal::NestingTooDeep));
        let quoted = format!("{{ a(x: \"{}\") }}", "[".repeat(500));
        assert_eq!(check_nesting(&quoted), Ok(()));
        let block = format!("{{ a(x: \"\"\"{}\\\"\"\" still\"\"\") }}", "{".repeat(500));
        assert_eq!(check_nesting(&block), Ok(()));
        let comment = format!("# {}\n{{ a }}", "(".repeat(500));
        assert_eq!(check_nesting(&comment), Ok(()));
        let escaped = format!("{{ a(x: \"\\\"{}\") }}", "[".repeat(500));
        assert_eq!(check_nesting(&escaped), Ok(()));
    }

    #[test]
    fn root_fields_count_aliases_and_fragments() {
        let many = format!(
            "query {{ {} ...F }} fragment F on Query {{ x: me {{ email }} }}",
            (0..MAX_ROOT_FIELDS)
                .map(|i| format!("a{i}: me {{ email }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let vars = async_graphql::Variables::default();
        assert_eq!(
            check_document(&doc(&many), &vars),
            Err(Refusal::TooManyRootFields(MAX_ROOT_FIELDS + 1))
        );
        let cyclic = "query { ...A } fragment A on Query { ...B me { email } } \
                      fragment B on Query { ...A }";
        assert_eq!(check_document(&doc(cyclic), &vars), Ok(()));
    }

    #[test]
    fn a_login_twice_in_one_operation_is_refused() {
        let vars = async_graphql::Variables::default();
        let q = "mutation { a: login(input: {email: \"a\", password: \"b\"}) { token } \
                 b: login(input: {email: \"a\", password: \"c\"}) { token } }";
        assert_eq!(
            check_document(&doc(q), &vars),
            Err(Refusal::Repeated("login"))
        );
    }

    #[test]
    fn control_characters_in_query_arguments_are_refused() {
        let vars = async_graphql::Variables::from_json(serde_json::json!({ "s": "a\u{0}b" }));
        let q = "query($s: String) { orders(filter: {search: $s}) { totalCount } }";
        assert_eq!(
            check_document(&doc(q), &vars),
            Err(Refusal::ControlCharacters("filter.search".into()))
        );
        let ok = async_graphql::Variables::from_json(serde_json::json!({ "s": "Zoë" }));
        assert_eq!(check_document(&doc(q), &ok), Ok(()));
    }
}
