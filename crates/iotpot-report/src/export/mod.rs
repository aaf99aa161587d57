//! Exports for the tools people feed: tables as CSV for spreadsheets and
//! pandas ([`csv`]); indicators as a STIX 2.1 bundle for a threat
//! intelligence platform ([`stix`]).

pub mod csv;
pub mod stix;
