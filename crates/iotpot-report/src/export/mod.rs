//! Exports for the tools people feed: tables as CSV for spreadsheets and
//! pandas ([`csv`]); what the honeypot learned ([`intel`]) as a STIX 2.1
//! bundle for a threat intelligence platform ([`stix`]) or a MISP event
//! ([`misp`]).

pub mod csv;
pub mod intel;
pub mod misp;
pub mod stix;
