//! Other honeypots' logs into iotpot's events, so their operators get
//! these reports from the logs they already have: cowrie's JSON log
//! ([`cowrie`]).

pub mod cowrie;
