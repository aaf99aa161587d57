//! The whole Telnet session (codec, login, shell) on arbitrary bytes; it
//! builds iotpot-session alone (no sockets, downloader or sandboxes).
#![no_main]
use iotpot_session::{
    Deployment, FetchFailure, FetchResult, Profile, SessionLimits, Step, System, TelnetSession,
    Wait,
};
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
        shell: iotpot_session::ShellLimits {
            vfs_bytes: 1 << 16,
            steps_per_line: 2000,
            output_per_line: 1 << 16,
        },
    };
    let mut s = TelnetSession::new(system(), limits, true);
    let mut out = Step::default();
    s.open(&mut out);
    for chunk in data.chunks(97) {
        let mut o = Step::default();
        s.receive(chunk, 1_700_000_000, &mut o);
        // Every download fails, as from a dead server.
        while let Some(Wait::Fetch(req)) = o.wait.take() {
            s.fetched(
                &req.url,
                FetchResult::Failed(FetchFailure::Timeout),
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
