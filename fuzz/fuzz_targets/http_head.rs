//! HTTP request heads and Basic credentials on arbitrary bytes: a head is
//! parsed or refused, never a panic; what is parsed stays within the buffer.
#![no_main]
use iotpot_wire::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match http::parse_head(data) {
        Ok(Some((req, n))) => {
            assert!(n <= data.len());
            let _ = (
                req.path(),
                req.query(),
                req.content_length(),
                req.keep_alive(),
            );
            if let Some(v) = req.header("authorization") {
                let _ = http::basic_auth(v);
            }
        }
        Ok(None) => assert!(data.len() < http::MAX_HEAD),
        Err(_) => {}
    }
    let _ = http::basic_auth(data);
});
