//! `postgres.rs` when iotpot is built without the `postgres` feature: the
//! same names, and every way in says the feature is missing (so the
//! commands need no feature switches of their own).

use crate::sql::{Db, Param, Statement};
use crate::Sink;
use iotpot_core::Event;
use serde_json::Value;
use std::convert::Infallible;

fn off() -> anyhow::Error {
    anyhow::anyhow!(
        "[store] postgres is set, but this iotpot was built without the `postgres` feature"
    )
}

/// Never made: [`Pg::connect`] fails.
pub struct Pg(Infallible);

impl Pg {
    pub fn connect(_: &str) -> anyhow::Result<Pg> {
        Err(off())
    }
    pub fn reach(_: &str) -> anyhow::Result<()> {
        Err(off())
    }
}

/// A connection string cannot be used at all without the feature.
pub fn check_conninfo(_: &str) -> anyhow::Result<()> {
    Err(off())
}

impl Db for Pg {
    fn prepare<'a>(&'a self, _: &str) -> anyhow::Result<Box<dyn Statement + 'a>> {
        match self.0 {}
    }
    fn rows(&self, _: &str, _: &[Param]) -> anyhow::Result<Vec<Vec<Value>>> {
        match self.0 {}
    }
}

/// Never made: [`PostgresSink::open`] fails.
pub struct PostgresSink(Infallible);

impl PostgresSink {
    pub fn open(_: &str) -> anyhow::Result<PostgresSink> {
        Err(off())
    }
}

impl Sink for PostgresSink {
    fn name(&self) -> &'static str {
        match self.0 {}
    }
    fn write(&mut self, _: &[Event], _: &[String]) -> anyhow::Result<()> {
        match self.0 {}
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        match self.0 {}
    }
}
