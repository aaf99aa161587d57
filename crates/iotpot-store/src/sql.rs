//! One way to run the store's SQL on SQLite and on PostgreSQL.
//!
//! The writer and the reports write their statements once, in the subset
//! both databases read alike: `?N` parameters, `INSERT … ON CONFLICT (…)
//! DO …`, `CASE` instead of two-argument `MIN`/`MAX`, a quoted `"end"`.
//! PostgreSQL gets what SQLite has and it lacks (`json_extract`, `instr`,
//! `strftime`, `group_concat`…) as functions of its schema
//! (`postgres.rs`), so a report's query is the same text on both.
//!
//! A [`Db`] runs a statement with [`Param`]s (borrowed, no copy) and
//! returns rows as JSON values: integers, reals, text (a blob as lossy
//! text), null.

use serde_json::Value;

/// A statement's parameter.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// A statement prepared once and run many times.
pub trait Statement {
    /// Run it; the number of rows it changed.
    fn exec(&mut self, params: &[Param]) -> anyhow::Result<usize>;
}

/// A database the store's SQL runs on.
pub trait Db {
    /// Prepare a statement (from a cache: the same text is parsed once).
    fn prepare<'a>(&'a self, sql: &str) -> anyhow::Result<Box<dyn Statement + 'a>>;
    /// Run one statement; the number of rows it changed.
    fn exec(&self, sql: &str, params: &[Param]) -> anyhow::Result<usize> {
        self.prepare(sql)?.exec(params)
    }
    /// Rows worth putting in one `INSERT`: 1 in process (SQLite runs a
    /// prepared statement per row fastest), more across a network.
    fn rows_per_insert(&self) -> usize {
        1
    }
    /// The rows of one query.
    fn rows(&self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Vec<Value>>>;
    /// The first column of the first row, if there is one and it is not null.
    fn one(&self, sql: &str, params: &[Param]) -> anyhow::Result<Option<Value>> {
        Ok(self
            .rows(sql, params)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .filter(|v| !v.is_null()))
    }
}

/// The number of parameters a statement reads (its highest `?N`).
pub fn parameter_count(sql: &str) -> usize {
    let mut max = 0;
    let mut quote: Option<u8> = None;
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c @ (b'\'' | b'"')) => quote = Some(c),
            (None, b'?') => {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if let Ok(n) = sql[start..end].parse::<usize>() {
                    max = max.max(n);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    max
}

/// A value that can be a statement's parameter, borrowed where it holds
/// text or bytes.
pub trait AsParam {
    fn as_param(&self) -> Param<'_>;
}

impl AsParam for Param<'_> {
    fn as_param(&self) -> Param<'_> {
        *self
    }
}
impl AsParam for str {
    fn as_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl AsParam for String {
    fn as_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl AsParam for [u8] {
    fn as_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl AsParam for Vec<u8> {
    fn as_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl AsParam for i64 {
    fn as_param(&self) -> Param<'_> {
        Param::Int(*self)
    }
}
impl AsParam for i32 {
    fn as_param(&self) -> Param<'_> {
        Param::Int((*self).into())
    }
}
impl AsParam for u64 {
    fn as_param(&self) -> Param<'_> {
        Param::Int((*self).min(i64::MAX as u64) as i64)
    }
}
impl AsParam for u32 {
    fn as_param(&self) -> Param<'_> {
        Param::Int((*self).into())
    }
}
impl AsParam for u16 {
    fn as_param(&self) -> Param<'_> {
        Param::Int((*self).into())
    }
}
impl AsParam for bool {
    fn as_param(&self) -> Param<'_> {
        Param::Int((*self).into())
    }
}
impl AsParam for f64 {
    fn as_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl<T: AsParam + ?Sized> AsParam for &T {
    fn as_param(&self) -> Param<'_> {
        (**self).as_param()
    }
}
impl<T: AsParam> AsParam for Option<T> {
    fn as_param(&self) -> Param<'_> {
        self.as_ref().map_or(Param::Null, AsParam::as_param)
    }
}

/// `[Param; N]` from values of mixed types (each borrowed for the
/// statement that uses them).
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { [$($crate::sql::AsParam::as_param(&$v)),*] };
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(n) => ValueRef::Integer(n),
            Param::Real(f) => ValueRef::Real(f),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Statement for rusqlite::CachedStatement<'_> {
    fn exec(&mut self, params: &[Param]) -> anyhow::Result<usize> {
        Ok(self.execute(rusqlite::params_from_iter(params))?)
    }
}

impl Db for rusqlite::Connection {
    fn prepare<'a>(&'a self, sql: &str) -> anyhow::Result<Box<dyn Statement + 'a>> {
        Ok(Box::new(self.prepare_cached(sql)?))
    }

    fn exec(&self, sql: &str, params: &[Param]) -> anyhow::Result<usize> {
        Ok(self
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?)
    }

    fn rows(&self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Vec<Value>>> {
        let mut stmt = self.prepare_cached(sql)?;
        let n = stmt.column_count();
        let out = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                (0..n)
                    .map(|i| {
                        use rusqlite::types::ValueRef;
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => Value::from(i),
                            ValueRef::Real(f) => Value::from(f),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Value::from(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Value>>>()
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_outside_quotes() {
        assert_eq!(parameter_count("SELECT 1"), 0);
        assert_eq!(parameter_count("SELECT ?1, ?2 WHERE a = ?1"), 2);
        assert_eq!(parameter_count("SELECT '?7' || \"?9\", ?3"), 3);
    }
}
