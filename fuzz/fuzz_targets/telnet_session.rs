//! The whole Telnet session (codec, login, shell) on arbitrary bytes.
#![no_main]
use iotpot_core::deployment::Deployment;
use iotpot_core::Profile;
use iotpot_frontend::telnet::session::{Output, SessionLimits, TelnetSession};
use iotpot_shell::System;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn system() -> Arc<System> {
    static SYS: OnceLock<Arc<System>> = OnceLock::new();
    SYS.get_or_init(|| {
        let p = Profile::load("router-tplink")
            .unwrap()
            .instantiate(&Deployment::from_seed([1; 32]));
        System::new(p, 1_700_000_000)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let limits = SessionLimits {
        max_line: 1024,
        max_input_bytes: 1 << 16,
        shell: iotpot_shell::Limits {
            vfs_bytes: 1 << 16,
            steps_per_line: 2000,
            output_per_line: 1 << 16,
        },
    };
    let mut s = TelnetSession::new(system(), limits, true);
    let mut out = Output::default();
    s.open(&mut out);
    for chunk in data.chunks(97) {
        let mut o = Output::default();
        s.receive(chunk, 1_700_000_000, &mut o);
        // Every download fails, as from a dead server.
        while let Some(req) = o.fetch.take() {
            s.resume(
                &req.url,
                iotpot_shell::FetchResult::Failed(iotpot_shell::FetchFailure::Timeout),
                1_700_000_000,
                &mut o,
            );
        }
        if o.close.is_some() {
            break;
        }
    }
    s.finish(&mut out);
});
