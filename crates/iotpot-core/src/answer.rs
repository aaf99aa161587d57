//! Questions for the backend and their answers: the vocabulary shared by
//! the shell emulation (which asks, for the applets it does not
//! implement), IoTBOX (whose sandboxes answer, and which learns the
//! answers) and the store (which keeps the learned ones).

/// A command for the backend: its words, and the bytes it reads on stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Question {
    /// The command line as words joined by spaces (`expr 6 * 7`).
    pub command: String,
    /// Its argv, exactly.
    pub argv: Vec<Vec<u8>>,
    /// What it would read (from a pipe or redirection); empty if nothing.
    pub stdin: Vec<u8>,
}

/// What a command printed (stdout and stderr as a terminal shows them) and
/// its exit status: a sandbox's answer, or a learned one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub output: Vec<u8>,
    pub status: i32,
}

/// One learned answer: what a device of `profile` answers to `command`
/// (with that stdin), and whether it may be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub profile: String,
    pub command: String,
    /// SHA-256 (hex) of what the command read on stdin, if anything.
    pub stdin_sha256: Option<String>,
    pub answer: Answer,
    /// Answered differently when asked again or by a clean sandbox (time,
    /// randomness, state): never replayed.
    pub volatile: bool,
}
