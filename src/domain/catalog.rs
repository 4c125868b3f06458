//! What listings carry besides prices and stock: lists of image URLs and category names.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// A list of strings stored as a JSON array (a listing's image URLs, its category names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StringList(pub Vec<String>);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_string_list_is_stored_as_the_plain_json_array() {
        let urls = vec!["https://a.example/1.jpg".to_string(), "b".to_string()];
        let text = serde_json::to_string(&StringList(urls.clone())).unwrap();
        assert_eq!(text, serde_json::to_string(&urls).unwrap());
        assert_eq!(text, r#"["https://a.example/1.jpg","b"]"#);
        assert_eq!(
            serde_json::from_str::<StringList>(&text).unwrap(),
            StringList(urls)
        );
    }
}
