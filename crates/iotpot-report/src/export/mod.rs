//! Exports for the tools people feed: tables as CSV for spreadsheets and
//! pandas ([`csv`]).

pub mod csv;
