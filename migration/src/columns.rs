//! Column shapes shared by migrations. They are part of the migration history: change them
//! only by adding a new helper, never by editing one that a published migration uses.

use sea_orm_migration::prelude::*;

/// A 64-bit auto-increment primary key (`INTEGER PRIMARY KEY` on SQLite, `bigserial` on PostgreSQL).
pub fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// A required reference to another table's 64-bit id.
pub fn fk(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

/// A required UTC timestamp.
pub fn timestamp(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// An optional UTC timestamp.
pub fn timestamp_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// Required text.
pub fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

/// Optional text.
pub fn text_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

/// A required boolean.
pub fn boolean(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().to_owned()
}

/// A required 64-bit integer.
pub fn big(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

/// An optional 64-bit integer.
pub fn big_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

/// An optional JSON document.
pub fn json_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).json().null().to_owned()
}

/// Foreign key from `table.column` to `to_table.id`, deleting with the parent.
pub fn cascade(
    table: impl IntoIden + Clone + 'static,
    column: impl IntoIden + 'static,
    to_table: impl IntoIden + 'static,
    to_id: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(to_table, to_id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Creates a (possibly unique) index named `name` on `columns` of `table`.
pub fn index<T, C>(name: &str, table: T, columns: Vec<C>, unique: bool) -> IndexCreateStatement
where
    T: IntoIden + 'static,
    C: IntoIden + 'static,
{
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for c in columns {
        stmt.col(c);
    }
    if unique {
        stmt.unique();
    }
    stmt
}

/// Adds one column to `table`.
pub async fn add_column<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

/// Drops one column of `table`.
pub async fn drop_column<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}
