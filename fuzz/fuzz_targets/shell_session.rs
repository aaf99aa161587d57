//! Whole lines through the shell emulation of a real persona: parsing,
//! download-command extraction (with fetching on, every download fails),
//! expansion, applets and the virtual filesystem, with limits on.
#![no_main]
use iotpot_core::deployment::Deployment;
use iotpot_core::Profile;
use iotpot_shell::{Limits, Shell, System};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn system() -> Arc<System> {
    static SYS: OnceLock<Arc<System>> = OnceLock::new();
    SYS.get_or_init(|| {
        let p = Profile::load("dvr-xiongmai")
            .unwrap()
            .instantiate(&Deployment::from_seed([1; 32]));
        System::new(p, 1_700_000_000)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        vfs_bytes: 1 << 16,
        steps_per_line: 2000,
        output_per_line: 1 << 16,
    };
    let mut sh = Shell::new(system(), "root", limits);
    sh.enable_fetching();
    for line in data.split(|b| *b == b'\n').take(16) {
        let mut o = sh.run_line(line, 1_700_000_000);
        let mut replays = 0;
        while let Some(req) = o.pending.take() {
            replays += 1;
            assert!(replays <= 40, "a line must not wait for downloads forever");
            sh.provide(
                &req.url,
                iotpot_shell::FetchResult::Failed(iotpot_shell::FetchFailure::Timeout),
            );
            o = sh.run_line(line, 1_700_000_000);
        }
        assert!(o.output.len() <= (1 << 16) + 4096);
        assert!(sh.vfs_used() <= 1 << 16);
    }
    let _ = sh.finish();
});
