//! Keyset pagination by id: stable under inserts and cheap at any depth.

/// One page of a list, ordered by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items.
    pub first: u64,
    /// Only items with an id above this one.
    pub after: Option<i64>,
}

/// A page of results.
#[derive(Debug)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Whether more items follow.
    pub has_next_page: bool,
    /// How many items match in all pages.
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from `first + 1` fetched rows.
    pub fn from_overfetch(mut rows: Vec<T>, first: u64, total_count: u64) -> Self {
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Self {
            items: rows,
            has_next_page,
            total_count,
        }
    }
}
