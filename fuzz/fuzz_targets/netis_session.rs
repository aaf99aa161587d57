//! One source's conversation with the 53413/UDP backdoor on arbitrary
//! datagrams: never a panic, and no reply larger than the amplification
//! bound allows. Builds iotpot-session alone.
#![no_main]
use iotpot_session::netis::{AMPLIFICATION, MIN_REPLY};
use iotpot_session::{
    Deployment, FetchFailure, FetchResult, NetisPeer, Profile, ShellLimits, Step, System, Wait,
};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn system() -> Arc<System> {
    static SYS: OnceLock<Arc<System>> = OnceLock::new();
    SYS.get_or_init(|| {
        let p = Profile::load("router-netis")
            .unwrap()
            .instantiate(&Deployment::from_seed([1; 32]));
        System::new(p, 1_700_000_000)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let limits = ShellLimits {
        vfs_bytes: 1 << 16,
        steps_per_line: 2000,
        output_per_line: 1 << 16,
    };
    let mut peer = NetisPeer::new(system(), limits, true);
    // Datagrams separated by 0xff bytes; the first one logs in half the time.
    let mut first = true;
    for d in data.split(|b| *b == 0xff) {
        let mut step = Step::default();
        if first && d.first().is_some_and(|b| b & 1 == 1) {
            peer.datagram(b"AAAAAAAAnetcore\0", 1_700_000_000, &mut step);
            step = Step::default();
        }
        first = false;
        peer.datagram(d, 1_700_000_000, &mut step);
        assert!(step.to_peer.len() <= (d.len() * AMPLIFICATION).max(MIN_REPLY));
        if let Some(Wait::Fetch(req)) = step.wait.take() {
            let mut again = Step::default();
            peer.fetched(
                &req.url,
                FetchResult::Failed(FetchFailure::Timeout),
                1_700_000_000,
                &mut again,
            );
            assert!(!peer.waiting());
            assert!(again.to_peer.len() <= (d.len() * AMPLIFICATION).max(MIN_REPLY));
        }
    }
});
