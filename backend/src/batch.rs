//! Statements sent together. A one-card push is bound by round trips, not by work: on SQLite
//! each statement is a hop to the connection's thread and back (~50–90 µs on a 2-core machine),
//! so the statements a push can send without reading anything in between go as one
//! multi-statement query there. On PostgreSQL they go one after another, in the order added:
//! its row locks make the order matter, while on SQLite the process-wide write lock
//! (`Db::write_guard`) already keeps every other writer out of the transaction.
//!
//! Each statement numbers its placeholders from `$1`; on SQLite they are renumbered on from
//! the previous statement's (SQLite takes `$N` as a name, and sqlx binds the name `$N` to the
//! N-th value of the whole query).

use crate::db::DbKind;
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{Any, Either, Transaction};

/// A value bound to a statement of a [`Batch`].
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// Where a statement's rows are, once its batch was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(usize);

#[derive(Debug)]
struct Statement {
    sql: String,
    args: Vec<Arg>,
}

/// Statements to send, and the rows of those sent.
pub struct Batch {
    kind: DbKind,
    pending: Vec<Statement>,
    /// Rows per statement added, in order; filled by `send`.
    rows: Vec<Vec<AnyRow>>,
}

impl Batch {
    /// An empty batch for a database of `kind`.
    pub fn new(kind: DbKind) -> Self {
        Batch {
            kind,
            pending: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Adds a statement (placeholders from `$1`) to be sent by the next `send`.
    pub fn add(&mut self, sql: impl Into<String>, args: Vec<Arg>) -> Handle {
        self.pending.push(Statement {
            sql: sql.into(),
            args,
        });
        Handle(self.rows.len() + self.pending.len() - 1)
    }

    /// Sends the statements added since the last `send` and keeps their rows.
    pub async fn send(&mut self, tx: &mut Transaction<'_, Any>) -> Result<(), sqlx::Error> {
        let pending = std::mem::take(&mut self.pending);
        match self.kind {
            DbKind::Postgres => {
                for statement in pending {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql));
                    for arg in statement.args {
                        query = bind(query, arg);
                    }
                    self.rows.push(query.fetch_all(&mut **tx).await?);
                }
            }
            DbKind::Sqlite => {
                let expected = self.rows.len() + pending.len();
                let mut sql = String::new();
                let mut args = Vec::new();
                for statement in pending {
                    sql.push_str(&shift_placeholders(&statement.sql, args.len()));
                    sql.push_str(";\n");
                    args.extend(statement.args);
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for arg in args {
                    query = bind(query, arg);
                }
                // A statement's rows come before its result; every statement ends with one.
                let mut rows = Vec::new();
                #[expect(
                    deprecated,
                    reason = "several statements in one query is SQLite-only in sqlx, and the \
                              one hop is the point; save_with_audit relies on it too"
                )]
                let mut stream = query.fetch_many(&mut **tx);
                while let Some(item) = stream.try_next().await? {
                    match item {
                        Either::Right(row) => rows.push(row),
                        Either::Left(_) => self.rows.push(std::mem::take(&mut rows)),
                    }
                }
                if self.rows.len() != expected {
                    return Err(sqlx::Error::Protocol(format!(
                        "a batch of statements answered {} results for {expected}",
                        self.rows.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The rows of a sent statement (each handed out once).
    pub fn take(&mut self, handle: Handle) -> Vec<AnyRow> {
        self.rows
            .get_mut(handle.0)
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

fn bind(
    query: sqlx::query::Query<'_, Any, sqlx::any::AnyArguments>,
    arg: Arg,
) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
    match arg {
        Arg::Text(v) => query.bind(v),
        Arg::Int(v) => query.bind(v),
    }
}

/// `sql` with each placeholder `$N` written `$(N + by)`. The statements given to a batch are
/// our own and hold no `$` inside literals.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some((j, d)) = chars.peek().copied() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + 1;
            chars.next();
        }
        match sql[start..end].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&sql[start..end]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shift_placeholders;

    #[test]
    fn placeholders_number_on_from_the_previous_statement() {
        assert_eq!(
            shift_placeholders("SELECT $1, $2 WHERE x IN ($10)", 3),
            "SELECT $4, $5 WHERE x IN ($13)"
        );
        assert_eq!(shift_placeholders("SELECT $1", 0), "SELECT $1");
        assert_eq!(shift_placeholders("a $ b $x", 2), "a $ b $x");
    }
}
