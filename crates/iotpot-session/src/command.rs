//! The shell line path: one command line run in a persona's shell, the
//! events it makes, and the wait for a download or a sandbox's answer.
//! Telnet and the 53413/UDP backdoor both run their lines here.

use crate::Step;
use iotpot_core::escape::bytes_to_string;
use iotpot_core::event::MAX_OUTPUT_IN_EVENT;
use iotpot_core::sample::{kind, sha256_hex};
use iotpot_core::EventKind;
use iotpot_shell::{Answer, Effect, FetchRequest, FetchResult, Question, Shell};

/// Dropped-file contents up to this size go into the event itself.
const MAX_INLINE_FILE: usize = 64 << 10;

/// What a line waits for before it can finish.
#[derive(Debug, Clone)]
pub enum Wait {
    /// A real download: fetch it and hand the result back.
    Fetch(FetchRequest),
    /// A command only a real device (a sandbox) can answer.
    Ask(Question),
}

/// How a line ended.
#[derive(Debug)]
pub enum Ran {
    /// It waits ([`Step::wait`]); nothing of it happened yet.
    Waiting,
    /// It ran: what the terminal shows (LF line ends), whether the shell
    /// exits, and the milliseconds of `sleep` it asked for.
    Done {
        output: Vec<u8>,
        exit: bool,
        slept_ms: u64,
    },
}

/// A shell and the line it waits to run again, if any.
#[derive(Debug)]
pub struct Terminal {
    shell: Box<Shell>,
    waiting: Option<Vec<u8>>,
}

impl Terminal {
    pub fn new(shell: Shell) -> Terminal {
        Terminal {
            shell: Box::new(shell),
            waiting: None,
        }
    }

    pub fn shell(&self) -> &Shell {
        &self.shell
    }

    pub fn shell_mut(&mut self) -> &mut Shell {
        &mut self.shell
    }

    /// A line waits for a download or an answer.
    pub fn waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Run `line`: its events go into `step`, and so does what it waits for.
    pub fn run(&mut self, line: Vec<u8>, now: i64, step: &mut Step) -> Ran {
        let mut outcome = self.shell.run_line(&line, now);
        let wait = match (outcome.pending.take(), outcome.ask.take()) {
            (Some(req), _) => Some(Wait::Fetch(req)),
            (None, Some(q)) => Some(Wait::Ask(q)),
            (None, None) => None,
        };
        if let Some(w) = wait {
            step.wait = Some(w);
            self.waiting = Some(line);
            return Ran::Waiting;
        }
        let shown = &outcome.output[..outcome.output.len().min(MAX_OUTPUT_IN_EVENT)];
        step.events.push(EventKind::CommandInput {
            input: bytes_to_string(&line),
            known: outcome.known(),
            output: bytes_to_string(shown),
            output_size: outcome.output.len() as u64,
        });
        let exit = outcome.effects.contains(&Effect::Exit);
        for e in outcome.effects {
            effect_event(e, step);
        }
        Ran::Done {
            output: outcome.output,
            exit,
            slept_ms: outcome.slept_ms,
        }
    }

    /// The download the waiting line asked for: the line to run again.
    pub fn fetched(&mut self, url: &str, result: FetchResult) -> Option<Vec<u8>> {
        let line = self.waiting.take()?;
        self.shell.provide(url, result);
        Some(line)
    }

    /// The answer the waiting line asked for: the line to run again.
    pub fn answered(&mut self, q: Question, a: Answer) -> Option<Vec<u8>> {
        let line = self.waiting.take()?;
        self.shell.provide_answer(q, a);
        Some(line)
    }

    /// The session is over: what the shell left behind, as events.
    pub fn finish(&mut self, step: &mut Step) {
        for e in self.shell.finish() {
            effect_event(e, step);
        }
    }
}

/// The event an effect of the shell becomes.
pub fn effect_event(e: Effect, step: &mut Step) {
    let events = &mut step.events;
    match e {
        Effect::Download { url, tool, dest } => events.push(EventKind::DownloadRequested {
            url,
            tool: tool.name().to_string(),
            outfile: dest,
        }),
        Effect::FileWritten { path, bytes } => {
            let kind = kind(&bytes);
            events.push(EventKind::FileWritten {
                outfile: path.clone(),
                shasum: sha256_hex(&bytes),
                size: bytes.len() as u64,
                kind: kind.to_string(),
                content: (bytes.len() <= MAX_INLINE_FILE).then(|| hex::encode(bytes.as_slice())),
            });
            // Droppers built with echo/printf are samples too.
            if kind != "data" {
                step.keep.push((path, bytes));
            }
        }
        Effect::Executed { path, args, bytes } => events.push(EventKind::FileExecuted {
            outfile: path,
            shasum: bytes.map(|b| sha256_hex(&b)),
            args,
        }),
        Effect::Unknown { command } => events.push(EventKind::CommandUnknown { input: command }),
        Effect::Limit { limit, detail } => events.push(EventKind::SessionLimit {
            limit: limit.to_string(),
            detail,
        }),
        Effect::Exit => {}
    }
}
