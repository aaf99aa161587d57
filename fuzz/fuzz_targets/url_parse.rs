//! URL and host parsing (every inet_aton spelling) and the address guard on
//! arbitrary text: what an attacker's wget argument can be.
#![no_main]
use iotpot_downloader::guard::Guard;
use iotpot_downloader::url::{self, Host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(u) = url::parse(&text) {
        let _ = u.to_string();
        let _ = u.file_name();
        if let Host::Ip(ip) = u.host {
            let _ = Guard::default().check(ip);
        }
    }
    let _ = url::inet_aton(&text);
});
