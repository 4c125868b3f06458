//! Text search patterns shared by the list queries.

/// `%value%` for LIKE, with the wildcards in `value` escaped (SQLite needs the ESCAPE clause).
pub fn like_as_typed(value: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Lower-cased [`like_as_typed`], to compare with `LOWER(column)` (SQLite lower-cases ASCII only).
pub fn like(value: &str) -> sea_orm::sea_query::LikeExpr {
    like_as_typed(&value.to_lowercase())
}
