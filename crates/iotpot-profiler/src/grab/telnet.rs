//! The Telnet side of a grab: a client that answers the device's
//! negotiation as a terminal would, so the device gets to its banner, and
//! keeps what it printed with the negotiation taken out.

use iotpot_wire::telnet::{opt, DO, DONT, IAC, SB, SE, WILL, WONT};

/// Options a terminal client turns on when the server offers them.
const ACCEPTED: &[u8] = &[opt::ECHO, opt::SGA];

/// One connection's negotiation state. Fed the device's bytes, it gives
/// back the replies to send; each option is answered once, so a device
/// that negotiates forever gets no more than one reply per option.
#[derive(Debug, Default)]
pub struct Client {
    state: State,
    answered: Vec<(u8, u8)>,
    /// What the device printed, negotiation removed.
    pub text: Vec<u8>,
    /// The device's commands in the order it sent them (`DO 24`,
    /// `WILL 1`...), for a profile that must send the same ones.
    pub commands: Vec<(u8, u8)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    Data,
    Iac,
    Verb(u8),
    Sub,
    SubIac,
}

impl Client {
    /// Feed what arrived; returns the bytes to send back.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        let mut reply = Vec::new();
        for &b in data {
            self.state = match (self.state, b) {
                (State::Data, IAC) => State::Iac,
                (State::Data, _) => {
                    self.text.push(b);
                    State::Data
                }
                (State::Iac, IAC) => {
                    self.text.push(IAC);
                    State::Data
                }
                (State::Iac, DO | DONT | WILL | WONT) => State::Verb(b),
                (State::Iac, SB) => State::Sub,
                (State::Iac, _) => State::Data,
                (State::Verb(verb), option) => {
                    self.commands.push((verb, option));
                    self.answer(verb, option, &mut reply);
                    State::Data
                }
                (State::Sub, IAC) => State::SubIac,
                (State::Sub, _) => State::Sub,
                (State::SubIac, SE) => State::Data,
                (State::SubIac, _) => State::Sub,
            };
        }
        reply
    }

    fn answer(&mut self, verb: u8, option: u8, reply: &mut Vec<u8>) {
        if self.answered.contains(&(verb, option)) {
            return;
        }
        self.answered.push((verb, option));
        let answer = match verb {
            DO => WONT,
            WILL if ACCEPTED.contains(&option) => DO,
            WILL => DONT,
            // DONT / WONT: already off on our side.
            _ => return,
        };
        reply.extend_from_slice(&[IAC, answer, option]);
    }
}

/// Command names as Wireshark and the iotpot events write them.
pub fn command_text(verb: u8, option: u8) -> String {
    let v = match verb {
        DO => "DO",
        DONT => "DONT",
        WILL => "WILL",
        WONT => "WONT",
        _ => "?",
    };
    format!("{v} {option}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_once_and_keeps_the_text() {
        let mut c = Client::default();
        let r = c.feed(&[
            IAC, DO, 24, IAC, WILL, 1, b'h', b'i', IAC, IAC, IAC, SB, 31, 1, IAC, SE, b'!',
        ]);
        assert_eq!(r, [IAC, WONT, 24, IAC, DO, 1]);
        assert_eq!(c.text, [b'h', b'i', IAC, b'!']);
        assert_eq!(c.commands, [(DO, 24), (WILL, 1)]);
        // The same request again: no second answer (no negotiation loop).
        assert!(c.feed(&[IAC, DO, 24]).is_empty());
        // Split across reads.
        let mut c = Client::default();
        assert!(c.feed(&[IAC]).is_empty());
        assert_eq!(c.feed(&[WILL, 3]), [IAC, DO, 3]);
    }
}
