//! A file's patterns as one search that names the first of them, in file
//! order, that matches a banner.
//!
//! One lazy DFA (regex-automata's, the engine under `regex`) over every
//! pattern, run once over the banner in overlapping mode: it reports each
//! pattern's matches as the scan meets them, and the lowest pattern number
//! seen wins. (`RegexSet::matches` does the same scan, then fills a table
//! of one flag per pattern, which finding the first set flag had to walk.)
//!
//! On banners it has not seen, the scan is bound by memory: each new banner
//! walks DFA states built for it, in a transition table of ~15 MiB for
//! Recog's HTTP files. Repeated banners (a fleet of one device) stay in the
//! cache.
//!
//! The lazy DFA may give up on a hostile banner (its cache cleared again and
//! again) or meet a non-ASCII byte where a pattern has a Unicode word
//! boundary; such a banner goes through a `RegexSet` of the same patterns,
//! built the first time it is needed (linear time either way).

use regex::bytes::{RegexSet, RegexSetBuilder};
use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};
use std::sync::OnceLock;

type NewCache =
    Box<dyn Fn() -> Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

pub(super) struct FirstOf {
    dfa: DFA,
    /// Caches of the lazy DFA, one per search at a time (the pool
    /// regex's own searches use).
    caches: Pool<Cache, NewCache>,
    sources: Vec<String>,
    /// The slower search, for the banners the lazy DFA cannot finish.
    fallback: OnceLock<Option<RegexSet>>,
    size: usize,
}

impl FirstOf {
    /// `sources` as [`super::load`] compiles them (inline flags first);
    /// `size` bounds the compiled program and the DFA's cache, in bytes.
    pub(super) fn new(sources: &[String], size: usize) -> anyhow::Result<FirstOf> {
        let nfa = thompson::Compiler::new()
            .syntax(syntax::Config::new().utf8(false))
            .configure(
                thompson::Config::new()
                    .which_captures(WhichCaptures::None)
                    .nfa_size_limit(Some(size)),
            )
            .build_many(sources)?;
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .unicode_word_boundary(true)
                    .cache_capacity(size)
                    .minimum_cache_clear_count(Some(3))
                    .minimum_bytes_per_state(Some(10)),
            )
            .build_from_nfa(nfa)?;
        let for_cache = dfa.clone();
        Ok(FirstOf {
            dfa,
            caches: Pool::new(Box::new(move || for_cache.create_cache())),
            sources: sources.to_vec(),
            fallback: OnceLock::new(),
            size,
        })
    }

    /// The number of the first pattern that matches `data`.
    pub(super) fn find(&self, data: &[u8]) -> Option<usize> {
        let found = self.scan(&mut self.caches.get(), data);
        match found {
            Ok(first) => first,
            Err(()) => self.fallback(data),
        }
    }

    /// One pass over `data`: the lazy DFA returns at each match it meets
    /// (pattern, end); the lowest pattern number wins.
    fn scan(&self, cache: &mut Cache, data: &[u8]) -> Result<Option<usize>, ()> {
        let input = Input::new(data);
        let mut state = OverlappingState::start();
        let mut first: Option<usize> = None;
        loop {
            self.dfa
                .try_search_overlapping_fwd(cache, &input, &mut state)
                .map_err(|_| ())?;
            let Some(m) = state.get_match() else {
                return Ok(first);
            };
            let p = m.pattern().as_usize();
            first = Some(first.map_or(p, |f| f.min(p)));
            // Nothing comes before the file's first pattern.
            if p == 0 {
                return Ok(first);
            }
        }
    }

    fn fallback(&self, data: &[u8]) -> Option<usize> {
        let set = self.fallback.get_or_init(|| {
            RegexSetBuilder::new(&self.sources)
                .size_limit(self.size)
                .dfa_size_limit(self.size)
                .build()
                .map_err(|e| tracing::warn!(error = %e, "recog: a file's patterns as one set"))
                .ok()
        });
        set.as_ref()?.matches(data).into_iter().next()
    }
}

impl std::fmt::Debug for FirstOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstOf")
            .field("patterns", &self.sources.len())
            .finish()
    }
}
