//! The per-session virtual filesystem: copy-on-write over a shared base.
//!
//! Every session of a persona shares one read-only [`BaseFs`] (built once per
//! listener). What a session changes lives in its own small overlay, bounded
//! in bytes: a flood of `echo >> f` from one attacker costs that attacker an
//! `No space left on device`, not the host its memory.

// foldhash, not SipHash: every PATH lookup of every command hashes a
// path; the tables are the profile's and one session's own (bounded).
use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    File(Arc<Vec<u8>>),
    Link(String),
    /// A device node such as `/dev/null`.
    Device,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub node: Node,
    /// Permission bits (`0o755`...).
    pub mode: u32,
    /// Seconds since the epoch.
    pub mtime: i64,
}

impl Entry {
    pub fn size(&self) -> usize {
        match &self.node {
            Node::File(d) => d.len(),
            Node::Link(t) => t.len(),
            _ => 0,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.node == Node::Dir
    }
}

/// The read-only tree every session of a persona starts from.
#[derive(Debug, Default)]
pub struct BaseFs {
    entries: HashMap<String, Entry>,
    children: HashMap<String, BTreeSet<String>>,
}

impl BaseFs {
    pub fn insert(&mut self, path: &str, entry: Entry) {
        let path = normalize("/", path);
        // Create parents.
        let mut p = parent(&path);
        let mut child = path.clone();
        loop {
            self.children
                .entry(p.clone())
                .or_default()
                .insert(basename(&child).to_string());
            if self.entries.contains_key(&p) || p == "/" {
                break;
            }
            self.entries.insert(
                p.clone(),
                Entry {
                    node: Node::Dir,
                    mode: 0o755,
                    mtime: entry.mtime,
                },
            );
            child = p.clone();
            p = parent(&p);
        }
        if !self.entries.contains_key("/") {
            self.entries.insert(
                "/".into(),
                Entry {
                    node: Node::Dir,
                    mode: 0o755,
                    mtime: entry.mtime,
                },
            );
        }
        self.entries.insert(path, entry);
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsError {
    NotFound,
    NotDir,
    IsDir,
    Exists,
    NoSpace,
    /// Too many levels of symbolic links.
    Loop,
    NameTooLong,
    Invalid,
}

impl FsError {
    /// The libc `strerror` text, as BusyBox prints it.
    pub fn text(&self) -> &'static str {
        match self {
            FsError::NotFound => "No such file or directory",
            FsError::NotDir => "Not a directory",
            FsError::IsDir => "Is a directory",
            FsError::Exists => "File exists",
            FsError::NoSpace => "No space left on device",
            FsError::Loop => "Too many levels of symbolic links",
            FsError::NameTooLong => "File name too long",
            FsError::Invalid => "Invalid argument",
        }
    }
}

/// One session's view: the base plus its own changes.
#[derive(Debug, Clone)]
pub struct Vfs {
    base: Arc<BaseFs>,
    /// Changed paths: `Some` = new content, `None` = deleted.
    overlay: HashMap<String, Option<Entry>>,
    used: usize,
    limit: usize,
}

impl Vfs {
    pub fn new(base: Arc<BaseFs>, limit: usize) -> Vfs {
        Vfs {
            base,
            overlay: HashMap::new(),
            used: 0,
            limit,
        }
    }

    /// Bytes of file data this session added.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The entry at `path` without following a final symlink.
    pub fn lstat(&self, path: &str) -> Option<&Entry> {
        match self.overlay.get(path) {
            Some(e) => e.as_ref(),
            None => self.base.get(path),
        }
    }

    /// Follow symlinks (in every component) to the real path.
    pub fn resolve(&self, path: &str) -> Result<String, FsError> {
        self.resolve_depth(path, 0)
    }

    fn resolve_depth(&self, path: &str, depth: usize) -> Result<String, FsError> {
        if depth > 8 {
            return Err(FsError::Loop);
        }
        let mut cur = String::from("/");
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for (i, c) in comps.iter().enumerate() {
            let next = join(&cur, c);
            match self.lstat(&next) {
                Some(Entry {
                    node: Node::Link(target),
                    ..
                }) => {
                    let target = normalize(&cur, target);
                    let resolved = self.resolve_depth(&target, depth + 1)?;
                    cur = resolved;
                }
                Some(e) => {
                    if i + 1 < comps.len() && !e.is_dir() {
                        return Err(FsError::NotDir);
                    }
                    cur = next;
                }
                None => {
                    if i + 1 < comps.len() {
                        return Err(FsError::NotFound);
                    }
                    cur = next;
                }
            }
        }
        Ok(cur)
    }

    /// Follow symlinks and return the entry.
    pub fn stat(&self, path: &str) -> Result<(String, &Entry), FsError> {
        let real = self.resolve(path)?;
        match self.lstat(&real) {
            Some(e) => Ok((real, e)),
            None => Err(FsError::NotFound),
        }
    }

    pub fn read(&self, path: &str) -> Result<Arc<Vec<u8>>, FsError> {
        let (_, e) = self.stat(path)?;
        match &e.node {
            Node::File(d) => Ok(d.clone()),
            Node::Dir => Err(FsError::IsDir),
            Node::Device => Ok(Arc::new(Vec::new())),
            Node::Link(_) => Err(FsError::Loop),
        }
    }

    /// Names in a directory, sorted.
    pub fn list(&self, dir: &str) -> Result<Vec<String>, FsError> {
        let (real, e) = self.stat(dir)?;
        if !e.is_dir() {
            return Err(FsError::NotDir);
        }
        let mut names: BTreeSet<String> = self
            .base
            .children
            .get(&real)
            .map(|s| {
                s.iter()
                    .filter(|n| self.lstat(&join(&real, n)).is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for (p, e) in &self.overlay {
            if e.is_some() && p != "/" && parent(p) == real {
                names.insert(basename(p).to_string());
            }
        }
        Ok(names.into_iter().collect())
    }

    fn check_parent(&self, path: &str) -> Result<(), FsError> {
        check_name(path)?;
        match self.stat(&parent(path)) {
            Ok((_, e)) if e.is_dir() => Ok(()),
            Ok(_) => Err(FsError::NotDir),
            Err(e) => Err(e),
        }
    }

    fn put(&mut self, path: String, entry: Option<Entry>) -> Result<(), FsError> {
        // `used` counts the overlay only (the base is shared and costs
        // nothing), with a per-entry overhead so a million empty files cost
        // as much as the memory they take.
        let old = self.overlay.get(&path).map(|e| cost(&path, e)).unwrap_or(0);
        let new = cost(&path, &entry);
        let used = self.used - old.min(self.used) + new;
        if new > old && used > self.limit {
            return Err(FsError::NoSpace);
        }
        self.used = used;
        self.overlay.insert(path, entry);
        Ok(())
    }

    /// Write (`append` = `>>`) to a file, following symlinks. Returns the real path.
    pub fn write(
        &mut self,
        path: &str,
        data: &[u8],
        append: bool,
        now: i64,
    ) -> Result<String, FsError> {
        let real = self.resolve(path)?;
        self.check_parent(&real)?;
        let (mut content, mode) = match self.lstat(&real) {
            Some(Entry {
                node: Node::File(d),
                mode,
                ..
            }) => (
                if append {
                    d.clone()
                } else {
                    Arc::new(Vec::new())
                },
                *mode,
            ),
            Some(Entry {
                node: Node::Dir, ..
            }) => return Err(FsError::IsDir),
            Some(Entry {
                node: Node::Device, ..
            }) => return Ok(real),
            _ => (Arc::new(Vec::new()), 0o644),
        };
        if self.used + data.len() > self.limit {
            return Err(FsError::NoSpace);
        }
        // Take the file out of the overlay so make_mut does not copy it.
        if append {
            if let Some(Some(Entry {
                node: Node::File(_),
                ..
            })) = self.overlay.get(&real)
            {
                if let Some(Some(Entry {
                    node: Node::File(d),
                    ..
                })) = self.overlay.remove(&real)
                {
                    let removed = Some(Entry {
                        node: Node::Dir,
                        mode: 0,
                        mtime: 0,
                    });
                    self.used -= (cost(&real, &removed) + d.len()).min(self.used);
                    content = d;
                }
            }
        }
        Arc::make_mut(&mut content).extend_from_slice(data);
        self.put(
            real.clone(),
            Some(Entry {
                node: Node::File(content),
                mode,
                mtime: now,
            }),
        )?;
        Ok(real)
    }

    /// Put a whole file (used by `cp` and downloads), sharing its bytes.
    pub fn put_file(
        &mut self,
        path: &str,
        data: Arc<Vec<u8>>,
        mode: u32,
        now: i64,
    ) -> Result<String, FsError> {
        let real = self.resolve(path)?;
        self.check_parent(&real)?;
        if self.lstat(&real).is_some_and(|e| e.is_dir()) {
            return Err(FsError::IsDir);
        }
        self.put(
            real.clone(),
            Some(Entry {
                node: Node::File(data),
                mode,
                mtime: now,
            }),
        )?;
        Ok(real)
    }

    pub fn mkdir(&mut self, path: &str, now: i64) -> Result<(), FsError> {
        self.create(path, Node::Dir, 0o755, now)
    }

    pub fn symlink(&mut self, target: &str, path: &str, now: i64) -> Result<(), FsError> {
        self.create(path, Node::Link(target.to_string()), 0o777, now)
    }

    /// A new entry where there is none.
    fn create(&mut self, path: &str, node: Node, mode: u32, now: i64) -> Result<(), FsError> {
        check_name(path)?;
        if self.lstat(path).is_some() {
            return Err(FsError::Exists);
        }
        self.check_parent(path)?;
        self.put(
            path.to_string(),
            Some(Entry {
                node,
                mode,
                mtime: now,
            }),
        )
    }

    /// Every existing path below directory `dir`, deepest first.
    fn descendants(&self, dir: &str) -> Vec<String> {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let mut all: Vec<String> = self
            .base
            .entries
            .keys()
            .chain(self.overlay.keys())
            .filter(|p| p.starts_with(&prefix) && p.len() > prefix.len())
            .filter(|p| self.lstat(p).is_some())
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all.reverse();
        all
    }

    /// Remove a file, link or (with `recursive`) a directory tree. Iterative:
    /// a tree as deep as the attacker likes cannot exhaust the stack.
    pub fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError> {
        let Some(e) = self.lstat(path) else {
            return Err(FsError::NotFound);
        };
        if e.is_dir() {
            if !recursive {
                return Err(FsError::IsDir);
            }
            for p in self.descendants(path) {
                self.put(p, None)?;
            }
        }
        self.put(path.to_string(), None)
    }

    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<String, FsError> {
        let (real, e) = self.stat(path)?;
        let mut e = e.clone();
        e.mode = mode & 0o7777;
        self.put(real.clone(), Some(e))?;
        Ok(real)
    }

    /// Move an entry (and, for a directory, its whole tree).
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        let Some(e) = self.lstat(from).cloned() else {
            return Err(FsError::NotFound);
        };
        check_name(to)?;
        self.check_parent(to)?;
        if e.is_dir() {
            if to.starts_with(&format!("{from}/")) {
                return Err(FsError::Invalid);
            }
            let mut moved = self.descendants(from);
            moved.reverse();
            self.put(to.to_string(), Some(e))?;
            for p in moved {
                let entry = self.lstat(&p).cloned();
                let dest = format!("{to}{}", &p[from.len()..]);
                self.put(dest, entry)?;
            }
            for p in self.descendants(from) {
                self.put(p, None)?;
            }
            return self.put(from.to_string(), None);
        }
        self.put(to.to_string(), Some(e))?;
        self.put(from.to_string(), None)
    }

    pub fn set_mtime(&mut self, path: &str, now: i64) -> Result<(), FsError> {
        let (real, e) = self.stat(path)?;
        let mut e = e.clone();
        e.mtime = now;
        self.put(real, Some(e))
    }
}

/// Linux's PATH_MAX: longer paths are refused, as the kernel would.
pub const PATH_MAX: usize = 4096;

fn check_name(path: &str) -> Result<(), FsError> {
    if path.len() >= PATH_MAX || path.split('/').any(|c| c.len() > 255) {
        return Err(FsError::NameTooLong);
    }
    Ok(())
}

/// Bytes an overlay entry is charged: its data plus bookkeeping.
fn cost(path: &str, entry: &Option<Entry>) -> usize {
    64 + path.len() + entry.as_ref().map(|e| e.size()).unwrap_or(0)
}

/// `cwd` + `path`, with `.`, `..` and repeated slashes resolved (no symlinks).
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full: String;
    let p = if path.starts_with('/') {
        path
    } else {
        full = [cwd, "/", path].concat();
        &full
    };
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(p.len());
    for c in parts {
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

pub fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].to_string(),
    }
}

pub fn basename(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

pub fn join(dir: &str, name: &str) -> String {
    // Not `format!`: this runs for every component of every path looked
    // up (each command's PATH search), and the formatting machinery with a
    // string grown from empty was most of the lookup's work.
    let dir = if dir == "/" { "" } else { dir };
    [dir, "/", name].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Arc<BaseFs> {
        let mut b = BaseFs::default();
        b.insert(
            "/bin/busybox",
            Entry {
                node: Node::File(Arc::new(b"\x7fELF".to_vec())),
                mode: 0o755,
                mtime: 0,
            },
        );
        b.insert(
            "/bin/echo",
            Entry {
                node: Node::Link("busybox".into()),
                mode: 0o777,
                mtime: 0,
            },
        );
        b.insert(
            "/tmp",
            Entry {
                node: Node::Dir,
                mode: 0o777,
                mtime: 0,
            },
        );
        b.insert(
            "/var/tmp",
            Entry {
                node: Node::Link("/tmp".into()),
                mode: 0o777,
                mtime: 0,
            },
        );
        Arc::new(b)
    }

    #[test]
    fn paths() {
        assert_eq!(normalize("/tmp", "../bin//./x"), "/bin/x");
        assert_eq!(normalize("/", ".."), "/");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(basename("/a/b/"), "b");
    }

    #[test]
    fn copy_on_write_and_links() {
        let b = base();
        let mut v = Vfs::new(b.clone(), 1000);
        assert_eq!(&**v.read("/bin/echo").unwrap(), b"\x7fELF");
        v.write("/var/tmp/x", b"ab", false, 1).unwrap();
        v.write("/tmp/x", b"cd", true, 1).unwrap();
        assert_eq!(&**v.read("/tmp/x").unwrap(), b"abcd");
        assert_eq!(v.list("/var/tmp").unwrap(), vec!["x"]);
        v.remove("/bin/busybox", false).unwrap();
        assert_eq!(v.read("/bin/echo"), Err(FsError::NotFound));
        // The base is untouched for the next session.
        let v2 = Vfs::new(b, 1000);
        assert!(v2.read("/bin/echo").is_ok());
        assert!(v2.read("/tmp/x").is_err());
    }

    #[test]
    fn bounded() {
        let mut v = Vfs::new(base(), 10 + 64 + 6);
        v.write("/tmp/a", b"12345", false, 0).unwrap();
        v.write("/tmp/a", b"12345", true, 0).unwrap();
        assert_eq!(v.write("/tmp/a", b"1", true, 0), Err(FsError::NoSpace));
        assert_eq!(v.write("/tmp/b", b"1", true, 0), Err(FsError::NoSpace));
        v.remove("/tmp/a", false).unwrap();
        assert_eq!(v.used(), 64 + 6, "a deletion marker costs its bookkeeping");
        assert_eq!(v.write("/tmp/b", b"1", true, 0), Err(FsError::NoSpace));
        let mut many = Vfs::new(base(), 10_000);
        let made = (0..1000)
            .take_while(|i| many.write(&format!("/tmp/{i}"), b"", false, 0).is_ok())
            .count();
        assert!(made < 200, "empty files must cost memory too: {made}");
        assert_eq!(v.write("/nodir/x", b"1", false, 0), Err(FsError::NotFound));
    }

    #[test]
    fn deep_trees_are_safe() {
        let mut v = Vfs::new(base(), 64 << 20);
        let mut p = String::from("/tmp");
        let mut depth = 0;
        loop {
            p.push_str("/aaaaaaaaaaaaaaa");
            if v.mkdir(&p, 0).is_err() {
                break;
            }
            depth += 1;
        }
        assert!(depth > 200, "{depth}");
        assert_eq!(v.mkdir(&format!("{p}/b"), 0), Err(FsError::NameTooLong));
        v.rename("/tmp/aaaaaaaaaaaaaaa", "/tmp/z").unwrap();
        assert!(v.lstat("/tmp/z/aaaaaaaaaaaaaaa/aaaaaaaaaaaaaaa").is_some());
        assert_eq!(
            v.rename("/tmp/z", "/tmp/z/aaaaaaaaaaaaaaa/q"),
            Err(FsError::Invalid)
        );
        v.remove("/tmp/z", true).unwrap();
        assert_eq!(v.list("/tmp").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn directories() {
        let mut v = Vfs::new(base(), 1000);
        v.mkdir("/tmp/d", 0).unwrap();
        assert_eq!(v.mkdir("/tmp/d", 0), Err(FsError::Exists));
        v.write("/tmp/d/f", b"x", false, 0).unwrap();
        v.rename("/tmp/d", "/tmp/e").unwrap();
        assert_eq!(&**v.read("/tmp/e/f").unwrap(), b"x");
        assert!(v.read("/tmp/d/f").is_err());
        assert_eq!(v.remove("/tmp/e", false), Err(FsError::IsDir));
        v.remove("/tmp/e", true).unwrap();
        assert_eq!(v.list("/tmp").unwrap(), Vec::<String>::new());
    }
}
