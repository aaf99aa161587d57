//! Telnet (RFC 854/855) as a sans-I/O state machine.
//!
//! [`Telnet::receive`] takes whatever bytes arrived and splits them into
//! application data, bytes to send back (negotiation replies) and [`Event`]s.
//! Option negotiation follows RFC 1143's Q method, so a peer that loops on
//! WILL/DO never makes us loop with it. [`Telnet::encode_data`] escapes IAC and
//! turns a bare LF into CR LF (NVT newline).
//!
//! The opening negotiation is device data (each profile has its own bytes, as
//! real telnetds differ): [`Telnet::open`] sends those bytes verbatim and records
//! every `DO`/`WILL` in them as a pending request, so the peer's answers are
//! understood as answers.

/// Interpret As Command.
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
pub const SB: u8 = 250;
pub const GA: u8 = 249;
pub const EL: u8 = 248;
pub const EC: u8 = 247;
pub const AYT: u8 = 246;
pub const AO: u8 = 245;
pub const IP: u8 = 244;
pub const BRK: u8 = 243;
pub const DM: u8 = 242;
pub const NOP: u8 = 241;
pub const SE: u8 = 240;

/// Option codes used by embedded telnetds and bots.
pub mod opt {
    pub const BINARY: u8 = 0;
    pub const ECHO: u8 = 1;
    pub const SGA: u8 = 3;
    pub const STATUS: u8 = 5;
    pub const TTYPE: u8 = 24;
    pub const NAWS: u8 = 31;
    pub const TSPEED: u8 = 32;
    pub const LFLOW: u8 = 33;
    pub const LINEMODE: u8 = 34;
    pub const XDISPLOC: u8 = 35;
    pub const NEW_ENVIRON: u8 = 39;
}

/// Longest sub-negotiation we keep; the rest of an over-long one is dropped.
pub const MAX_SUBNEG: usize = 256;
/// How many options may have a non-default negotiation state at once. A real
/// client negotiates a handful; past this we refuse new ones statelessly.
pub const MAX_TRACKED_OPTIONS: usize = 32;

/// A negotiation verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Will,
    Wont,
    Do,
    Dont,
}

impl Verb {
    fn from_byte(b: u8) -> Option<Verb> {
        match b {
            WILL => Some(Verb::Will),
            WONT => Some(Verb::Wont),
            DO => Some(Verb::Do),
            DONT => Some(Verb::Dont),
            _ => None,
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Verb::Will => WILL,
            Verb::Wont => WONT,
            Verb::Do => DO,
            Verb::Dont => DONT,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verb::Will => "WILL",
            Verb::Wont => "WONT",
            Verb::Do => "DO",
            Verb::Dont => "DONT",
        }
    }
}

/// Something the peer did at the protocol level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer sent a negotiation verb.
    Option { verb: Verb, option: u8 },
    /// NAWS sub-negotiation: the peer's window size.
    WindowSize { cols: u16, rows: u16 },
    /// TTYPE IS sub-negotiation (non-printable bytes replaced by '?').
    TerminalType(String),
    /// Another sub-negotiation (option, payload length as received).
    Subnegotiation { option: u8, len: usize },
    /// A two-byte command such as IP, AYT, BRK, NOP.
    Command(u8),
}

/// Which options we agree to enable, on our side (`WILL`) and on the peer's
/// side (`DO`). Unlisted options are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    local: [u64; 4],
    remote: [u64; 4],
}

impl Policy {
    /// `local`: options we will enable on our side; `remote`: options we
    /// accept the peer enabling.
    pub fn new(local: &[u8], remote: &[u8]) -> Policy {
        let mut p = Policy::default();
        for &o in local {
            p.local[(o >> 6) as usize] |= 1 << (o & 63);
        }
        for &o in remote {
            p.remote[(o >> 6) as usize] |= 1 << (o & 63);
        }
        p
    }

    fn allows_local(&self, o: u8) -> bool {
        self.local[(o >> 6) as usize] & (1 << (o & 63)) != 0
    }

    fn allows_remote(&self, o: u8) -> bool {
        self.remote[(o >> 6) as usize] & (1 << (o & 63)) != 0
    }
}

/// RFC 1143 state of one side of one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Q {
    #[default]
    No,
    Yes,
    WantNo,
    WantYes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Side {
    q: Q,
    /// The "opposite" queue bit of RFC 1143.
    queued: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct OptState {
    us: Side,
    him: Side,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Data,
    Iac,
    Verb(u8),
    Sb,
    SbData,
    SbIac,
}

/// What one call to [`Telnet::receive`] produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Application data (IAC IAC unescaped; CR/LF/NUL left for the line layer).
    pub data: Vec<u8>,
    /// Bytes to send to the peer (negotiation replies).
    pub reply: Vec<u8>,
    pub events: Vec<Event>,
}

impl Output {
    pub fn clear(&mut self) {
        self.data.clear();
        self.reply.clear();
        self.events.clear();
    }
}

/// One Telnet connection's protocol state.
#[derive(Debug, Clone, Default)]
pub struct Telnet {
    state: State,
    policy: Policy,
    /// Options whose state is not "No/No", sorted by nothing: a handful at most.
    options: Vec<(u8, OptState)>,
    sb_option: u8,
    sb: Vec<u8>,
    sb_overflow: usize,
}

impl Telnet {
    pub fn new(policy: Policy) -> Telnet {
        Telnet {
            policy,
            ..Telnet::default()
        }
    }

    /// Send the opening bytes of a device (negotiation, maybe text). Every
    /// `IAC DO x` / `IAC WILL x` in them becomes a pending request so the
    /// peer's answer is taken as an answer. The bytes go out unchanged.
    pub fn open(&mut self, opening: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i + 2 < opening.len() {
            if opening[i] == IAC && Verb::from_byte(opening[i + 1]).is_some() {
                let option = opening[i + 2];
                match opening[i + 1] {
                    DO => self.set_him(option, Q::WantYes),
                    WILL => self.set_us(option, Q::WantYes),
                    _ => {}
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        out.extend_from_slice(opening);
    }

    /// Whether an option is enabled on our side (we said WILL and the peer DO).
    pub fn local_enabled(&self, option: u8) -> bool {
        self.get(option).us.q == Q::Yes
    }

    /// Whether an option is enabled on the peer's side.
    pub fn remote_enabled(&self, option: u8) -> bool {
        self.get(option).him.q == Q::Yes
    }

    /// Ask to enable (`true`) or disable an option on our side.
    pub fn request_local(&mut self, option: u8, enable: bool, reply: &mut Vec<u8>) {
        let mut side = self.get(option).us;
        if let Some(verb) = ask(&mut side, enable, WILL, WONT) {
            reply.extend_from_slice(&[IAC, verb, option]);
        }
        self.put(option, |s| s.us = side);
    }

    /// Ask the peer to enable (`true`) or disable an option on its side.
    pub fn request_remote(&mut self, option: u8, enable: bool, reply: &mut Vec<u8>) {
        let mut side = self.get(option).him;
        if let Some(verb) = ask(&mut side, enable, DO, DONT) {
            reply.extend_from_slice(&[IAC, verb, option]);
        }
        self.put(option, |s| s.him = side);
    }

    /// Feed bytes received from the peer.
    pub fn receive(&mut self, input: &[u8], out: &mut Output) {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Data {
                // Fast path: copy a run of plain data at once.
                let run = input[i..]
                    .iter()
                    .position(|&b| b == IAC)
                    .unwrap_or(input.len() - i);
                out.data.extend_from_slice(&input[i..i + run]);
                i += run;
                if i == input.len() {
                    break;
                }
                self.state = State::Iac;
                i += 1;
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match self.state {
                State::Data => State::Data,
                State::Iac => match b {
                    IAC => {
                        out.data.push(IAC);
                        State::Data
                    }
                    WILL | WONT | DO | DONT => State::Verb(b),
                    SB => State::Sb,
                    _ => {
                        out.events.push(Event::Command(b));
                        if b == AYT {
                            out.reply.extend_from_slice(b"\r\n[Yes]\r\n");
                        }
                        State::Data
                    }
                },
                State::Verb(v) => {
                    if let Some(verb) = Verb::from_byte(v) {
                        out.events.push(Event::Option { verb, option: b });
                        self.negotiate(verb, b, out);
                    }
                    State::Data
                }
                State::Sb => {
                    self.sb_option = b;
                    self.sb.clear();
                    self.sb_overflow = 0;
                    State::SbData
                }
                State::SbData => {
                    if b == IAC {
                        State::SbIac
                    } else {
                        self.sb_push(b);
                        State::SbData
                    }
                }
                State::SbIac => match b {
                    SE => {
                        self.finish_subneg(out);
                        State::Data
                    }
                    IAC => {
                        self.sb_push(IAC);
                        State::SbData
                    }
                    // A broken sub-negotiation: end it and read the byte as a
                    // command, as most telnetds do.
                    _ => {
                        self.finish_subneg(out);
                        i -= 1;
                        State::Iac
                    }
                },
            };
        }
    }

    /// Append `data` for the peer: IAC doubled, bare LF sent as CR LF.
    pub fn encode_data(data: &[u8], out: &mut Vec<u8>) {
        out.reserve(data.len() + data.len() / 16);
        // The runs between the bytes that change (IAC, a bare `\n`) are
        // copied whole: a byte at a time, this was ~28 instructions a byte
        // of every answer a session sends.
        let mut rest = data;
        let mut prev = 0u8;
        while let Some(i) = rest.iter().position(|&b| b == IAC || b == b'\n') {
            out.extend_from_slice(&rest[..i]);
            if i > 0 {
                prev = rest[i - 1];
            }
            match rest[i] {
                IAC => out.extend_from_slice(&[IAC, IAC]),
                _ if prev != b'\r' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            prev = rest[i];
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }

    fn sb_push(&mut self, b: u8) {
        if self.sb.len() < MAX_SUBNEG {
            self.sb.push(b);
        } else {
            self.sb_overflow += 1;
        }
    }

    fn finish_subneg(&mut self, out: &mut Output) {
        let len = self.sb.len() + self.sb_overflow;
        match self.sb_option {
            opt::NAWS if self.sb.len() == 4 => {
                let cols = u16::from_be_bytes([self.sb[0], self.sb[1]]);
                let rows = u16::from_be_bytes([self.sb[2], self.sb[3]]);
                out.events.push(Event::WindowSize { cols, rows });
            }
            // TTYPE IS <name>
            opt::TTYPE if self.sb.first() == Some(&0) => {
                let name = self.sb[1..]
                    .iter()
                    .map(|&c| {
                        if c.is_ascii_graphic() || c == b' ' {
                            c as char
                        } else {
                            '?'
                        }
                    })
                    .collect();
                out.events.push(Event::TerminalType(name));
            }
            option => out.events.push(Event::Subnegotiation { option, len }),
        }
        self.sb = Vec::new();
    }

    fn negotiate(&mut self, verb: Verb, option: u8, out: &mut Output) {
        let state = self.get(option);
        let (mut side, allowed, yes, no) = match verb {
            Verb::Will | Verb::Wont => (state.him, self.policy.allows_remote(option), DO, DONT),
            Verb::Do | Verb::Dont => (state.us, self.policy.allows_local(option), WILL, WONT),
        };
        let enable = matches!(verb, Verb::Will | Verb::Do);
        let before = side.q;
        if let Some(answer) = answer(&mut side, enable, allowed, yes, no) {
            out.reply.extend_from_slice(&[IAC, answer, option]);
        }
        match verb {
            Verb::Will | Verb::Wont => self.put(option, |s| s.him = side),
            Verb::Do | Verb::Dont => self.put(option, |s| s.us = side),
        }
        // The peer just agreed to send its terminal type: ask for it.
        if option == opt::TTYPE
            && matches!(verb, Verb::Will)
            && before != Q::Yes
            && side.q == Q::Yes
        {
            out.reply
                .extend_from_slice(&[IAC, SB, opt::TTYPE, 1, IAC, SE]);
        }
    }

    fn get(&self, option: u8) -> OptState {
        self.options
            .iter()
            .find(|(o, _)| *o == option)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    fn put(&mut self, option: u8, f: impl FnOnce(&mut OptState)) {
        if let Some(pos) = self.options.iter().position(|(o, _)| *o == option) {
            f(&mut self.options[pos].1);
            if self.options[pos].1 == OptState::default() {
                self.options.swap_remove(pos);
            }
            return;
        }
        let mut s = OptState::default();
        f(&mut s);
        if s != OptState::default() && self.options.len() < MAX_TRACKED_OPTIONS {
            self.options.push((option, s));
        }
    }

    fn set_him(&mut self, option: u8, q: Q) {
        self.put(option, |s| {
            if s.him.q == Q::No {
                s.him.q = q
            }
        });
    }

    fn set_us(&mut self, option: u8, q: Q) {
        self.put(option, |s| {
            if s.us.q == Q::No {
                s.us.q = q
            }
        });
    }
}

/// RFC 1143: we ask to enable or disable. Returns the verb to send, if any.
fn ask(side: &mut Side, enable: bool, yes: u8, no: u8) -> Option<u8> {
    match (side.q, side.queued, enable) {
        (Q::No, _, true) => {
            side.q = Q::WantYes;
            Some(yes)
        }
        (Q::Yes, _, false) => {
            side.q = Q::WantNo;
            Some(no)
        }
        (Q::WantNo, false, true) | (Q::WantYes, false, false) => {
            side.queued = true;
            None
        }
        (Q::WantNo, true, false) | (Q::WantYes, true, true) => {
            side.queued = false;
            None
        }
        _ => None,
    }
}

/// RFC 1143: the peer asked to enable (WILL/DO) or disable (WONT/DONT).
/// Returns the verb to answer with, if any.
fn answer(side: &mut Side, enable: bool, allowed: bool, yes: u8, no: u8) -> Option<u8> {
    if enable {
        match (side.q, side.queued) {
            (Q::No, _) => {
                if allowed {
                    side.q = Q::Yes;
                    Some(yes)
                } else {
                    Some(no)
                }
            }
            (Q::Yes, _) => None,
            (Q::WantNo, false) => {
                side.q = Q::No;
                None
            }
            (Q::WantNo, true) => {
                side.q = Q::Yes;
                side.queued = false;
                None
            }
            (Q::WantYes, false) => {
                side.q = Q::Yes;
                None
            }
            (Q::WantYes, true) => {
                side.q = Q::WantNo;
                side.queued = false;
                Some(no)
            }
        }
    } else {
        match (side.q, side.queued) {
            (Q::No, _) => None,
            (Q::Yes, _) => {
                side.q = Q::No;
                Some(no)
            }
            (Q::WantNo, false) => {
                side.q = Q::No;
                None
            }
            (Q::WantNo, true) => {
                side.q = Q::WantYes;
                side.queued = false;
                Some(yes)
            }
            (Q::WantYes, false) => {
                side.q = Q::No;
                None
            }
            (Q::WantYes, true) => {
                side.q = Q::No;
                side.queued = false;
                None
            }
        }
    }
}

/// Human-readable name of an option, for logs and events.
pub fn option_name(option: u8) -> std::borrow::Cow<'static, str> {
    let name = match option {
        opt::BINARY => "BINARY",
        opt::ECHO => "ECHO",
        opt::SGA => "SGA",
        opt::STATUS => "STATUS",
        opt::TTYPE => "TTYPE",
        opt::NAWS => "NAWS",
        opt::TSPEED => "TSPEED",
        opt::LFLOW => "LFLOW",
        opt::LINEMODE => "LINEMODE",
        opt::XDISPLOC => "XDISPLOC",
        opt::NEW_ENVIRON => "NEW-ENVIRON",
        other => return other.to_string().into(),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busybox() -> Telnet {
        Telnet::new(Policy::new(
            &[opt::ECHO, opt::SGA],
            &[opt::NAWS, opt::TTYPE, opt::SGA],
        ))
    }

    const OPENING: &[u8] = &[
        IAC, DO, 1, IAC, DO, 31, IAC, DO, 33, IAC, WILL, 1, IAC, WILL, 3,
    ];

    /// What `encode_data` does, a byte at a time.
    fn encode_bytewise(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = 0u8;
        for &b in data {
            match b {
                IAC => out.extend_from_slice(&[IAC, IAC]),
                b'\n' if prev != b'\r' => out.extend_from_slice(b"\r\n"),
                _ => out.push(b),
            }
            prev = b;
        }
        out
    }

    #[test]
    fn data_is_encoded_as_byte_by_byte() {
        let mut cases: Vec<Vec<u8>> = [
            &b""[..],
            b"\n",
            b"\r\n",
            b"\n\n\r\n\r\r\n",
            b"ls\nbin  etc\r\n# ",
            &[IAC],
            &[IAC, IAC, b'\n', IAC, b'\r', b'\n', b'x'],
            &[b'\r', IAC, b'\n'],
        ]
        .iter()
        .map(|c| c.to_vec())
        .collect();
        // And every sequence of three bytes from the ones that matter.
        let alphabet = [b'a', b'\r', b'\n', IAC];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    cases.push(vec![a, b, c]);
                }
            }
        }
        for case in cases {
            let mut out = b"kept".to_vec();
            Telnet::encode_data(&case, &mut out);
            assert_eq!(&out[..4], b"kept");
            assert_eq!(out[4..], encode_bytewise(&case), "{case:?}");
        }
    }

    #[test]
    fn opening_is_sent_verbatim_and_tracked() {
        let mut t = busybox();
        let mut out = Vec::new();
        t.open(OPENING, &mut out);
        assert_eq!(out, OPENING);
        assert_eq!(out[0], IAC, "Mirai needs IAC as the very first byte");
        // Mirai's answers: WILL NAWS + SB NAWS, WONT for other DO, DO for WILL.
        let mut o = Output::default();
        t.receive(
            &[
                IAC, WONT, 1, IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE, IAC, WONT, 33,
                IAC, DO, 1, IAC, DO, 3,
            ],
            &mut o,
        );
        assert!(
            o.reply.is_empty(),
            "answers to our own requests need no reply: {:?}",
            o.reply
        );
        assert!(t.remote_enabled(opt::NAWS));
        assert!(t.local_enabled(opt::ECHO));
        assert!(t.local_enabled(opt::SGA));
        assert!(!t.remote_enabled(opt::ECHO));
        assert!(o.events.contains(&Event::WindowSize { cols: 80, rows: 24 }));
        assert!(o.data.is_empty());
    }

    #[test]
    fn unsolicited_requests_are_answered_once() {
        let mut t = busybox();
        let mut o = Output::default();
        t.receive(&[IAC, WILL, opt::TTYPE, IAC, DO, opt::LINEMODE], &mut o);
        assert_eq!(
            o.reply,
            vec![
                IAC,
                DO,
                opt::TTYPE,
                IAC,
                SB,
                opt::TTYPE,
                1,
                IAC,
                SE,
                IAC,
                WONT,
                opt::LINEMODE
            ]
        );
        o.clear();
        // Repeating the same request must not make us loop.
        t.receive(&[IAC, WILL, opt::TTYPE], &mut o);
        assert!(o.reply.is_empty());
        t.receive(
            &[
                IAC,
                SB,
                opt::TTYPE,
                0,
                b'x',
                b't',
                b'e',
                b'r',
                b'm',
                IAC,
                SE,
            ],
            &mut o,
        );
        assert_eq!(o.events.last(), Some(&Event::TerminalType("xterm".into())));
    }

    #[test]
    fn data_and_escapes() {
        let mut t = busybox();
        let mut o = Output::default();
        t.receive(b"ro", &mut o);
        t.receive(&[b'o', IAC], &mut o);
        t.receive(&[IAC, b't', IAC, NOP, b'\r', b'\n'], &mut o);
        assert_eq!(o.data, b"roo\xfft\r\n");
        assert_eq!(o.events, vec![Event::Command(NOP)]);
        let mut enc = Vec::new();
        Telnet::encode_data(b"a\xffb\nc\r\nd", &mut enc);
        assert_eq!(enc, b"a\xff\xffb\r\nc\r\nd");
    }

    #[test]
    fn oversized_subnegotiation_is_bounded() {
        let mut t = busybox();
        let mut o = Output::default();
        let mut input = vec![IAC, SB, 99];
        input.extend(std::iter::repeat_n(7u8, 10_000));
        input.extend_from_slice(&[IAC, SE, b'x']);
        t.receive(&input, &mut o);
        assert_eq!(
            o.events,
            vec![Event::Subnegotiation {
                option: 99,
                len: 10_000
            }]
        );
        assert_eq!(o.data, b"x");
    }

    #[test]
    fn option_table_is_bounded() {
        let mut t = Telnet::new(Policy::new(&(0..=255).collect::<Vec<_>>(), &[]));
        let mut o = Output::default();
        for option in 0..=255u8 {
            t.receive(&[IAC, DO, option], &mut o);
        }
        assert!(t.options.len() <= MAX_TRACKED_OPTIONS);
    }

    #[test]
    fn q_method_disable_then_reenable() {
        let mut t = busybox();
        let mut reply = Vec::new();
        t.request_local(opt::ECHO, true, &mut reply);
        assert_eq!(reply, [IAC, WILL, opt::ECHO]);
        let mut o = Output::default();
        t.receive(&[IAC, DO, opt::ECHO], &mut o);
        assert!(o.reply.is_empty());
        assert!(t.local_enabled(opt::ECHO));
        reply.clear();
        t.request_local(opt::ECHO, false, &mut reply);
        assert_eq!(reply, [IAC, WONT, opt::ECHO]);
        // Changing our mind before the answer only queues.
        reply.clear();
        t.request_local(opt::ECHO, true, &mut reply);
        assert!(reply.is_empty());
        t.receive(&[IAC, DONT, opt::ECHO], &mut o);
        assert_eq!(o.reply, [IAC, WILL, opt::ECHO]);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics_and_bounded(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..32)) {
            let mut t = Telnet::new(Policy::new(&[1, 3], &[24, 31]));
            let mut o = Output::default();
            for c in &chunks {
                t.receive(c, &mut o);
                prop_assert!(t.sb.len() <= MAX_SUBNEG);
                prop_assert!(t.options.len() <= MAX_TRACKED_OPTIONS);
            }
            let total: usize = chunks.iter().map(|c| c.len()).sum();
            prop_assert!(o.data.len() <= total);
        }

        #[test]
        fn escaping_round_trips(data in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
            // Data without CR/LF round-trips exactly through encode + receive,
            // however the stream is split.
            let data: Vec<u8> = data.into_iter().filter(|b| *b != b'\n' && *b != b'\r').collect();
            let mut enc = Vec::new();
            Telnet::encode_data(&data, &mut enc);
            let split = split.min(enc.len());
            let mut t = Telnet::new(Policy::default());
            let mut o = Output::default();
            t.receive(&enc[..split], &mut o);
            t.receive(&enc[split..], &mut o);
            prop_assert_eq!(o.data, data);
            prop_assert!(o.events.is_empty());
        }
    }
}
