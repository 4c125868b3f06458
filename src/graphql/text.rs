//! Mutation inputs refuse control characters (NUL, escape, …) with a `userError` naming the
//! field, before any service sees them: PostgreSQL text cannot hold NUL at all, and a stored
//! escape sequence would reach every invoice, label and log that prints the value. Line
//! breaks and tabs are kept only in the multi-line fields of [`MULTI_LINE`].

use std::future::Future;

use async_graphql::{InputType, Value};

use crate::error::{AppError, AppResult, UserError, UserErrorCode};

/// Input fields (GraphQL names) where line breaks and tabs make sense.
pub const MULTI_LINE: [&str; 1] = ["reason"];

/// Every string of `input` checked; one user error per field holding control characters.
pub fn plain<T: InputType>(input: &T) -> AppResult<()> {
    let mut errors = Vec::new();
    walk(&input.to_value(), "", false, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::User(errors))
    }
}

/// Runs `run` only when `checked` passed: `text::then(text::plain(&input), service(…))`, or
/// the permission check of `context::acting`.
pub async fn then<T>(
    checked: AppResult<()>,
    run: impl Future<Output = AppResult<T>>,
) -> AppResult<T> {
    checked?;
    run.await
}

fn walk(value: &Value, path: &str, multi_line: bool, errors: &mut Vec<UserError>) {
    match value {
        Value::String(s) => {
            let refused =
                |c: char| c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t'));
            if s.chars().any(refused) {
                errors.push(UserError::new(
                    path,
                    UserErrorCode::ControlCharacters,
                    if multi_line {
                        "Only line breaks and tabs are accepted among control characters here."
                    } else {
                        "Control characters (line breaks, tabs, NUL, …) are not accepted here."
                    },
                ));
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &join(path, &i.to_string()), multi_line, errors);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                let multi = MULTI_LINE.contains(&name.as_str());
                walk(item, &join(path, name), multi, errors);
            }
        }
        _ => {}
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[derive(async_graphql::InputObject)]
    struct Line {
        sku: String,
    }

    #[derive(async_graphql::InputObject)]
    struct Input {
        reason: Option<String>,
        lines: Vec<Line>,
    }

    #[test]
    fn control_characters_are_refused_with_the_field_path() {
        let input = Input {
            reason: Some("two\nlines\tand a tab".into()),
            lines: vec![
                Line { sku: "A-1".into() },
                Line {
                    sku: "B\u{0}".into(),
                },
            ],
        };
        let AppError::User(errors) = plain(&input).unwrap_err() else {
            panic!("expected user errors")
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, vec!["lines", "1", "sku"]);
        assert_eq!(errors[0].code, UserErrorCode::ControlCharacters);
    }

    #[test]
    fn a_line_break_outside_multi_line_fields_is_refused() {
        let input = Input {
            reason: Some("bell\u{7}".into()),
            lines: vec![Line { sku: "A\n".into() }],
        };
        let AppError::User(errors) = plain(&input).unwrap_err() else {
            panic!("expected user errors")
        };
        assert_eq!(errors.len(), 2);
    }
}
