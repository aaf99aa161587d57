//! A DNS query from a sample in a sandbox, parsed and answered by the
//! sinkhole: never a panic, and the answer echoes the question.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(q) = iotpot_iotbox::dns::Question::parse(data) {
        let a = q.answer(Some([198, 18, 0, 1]));
        assert_eq!(&a[..2], &data[..2]);
        let again = iotpot_iotbox::dns::Question::parse(&{
            let mut x = a.clone();
            x[2] &= 0x7f;
            x
        });
        assert_eq!(again.map(|x| x.name), Some(q.name));
    }
});
