//! The packet socket's receive ring (`TPACKET_V3`, as libpcap and
//! tcpdump use it): the kernel writes packets straight into blocks of a
//! memory area shared with this process, each with its own timestamp, and
//! hands a block over when it is full or after [`RETIRE_MS`]. The capture
//! thread reads a whole block without a system call per packet and
//! without the kernel queueing and copying each packet a second time
//! (what `recvmmsg` on the socket cost: most of the capture thread's CPU).
//!
//! The ring is 8 blocks of 1 MiB (the 8 MiB the socket's receive buffer
//! had before), mapped once when the capture starts; when the thread falls
//! behind and every block is full, the kernel drops packets and counts
//! them ([`Ring::drops`]).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const BLOCK_SIZE: usize = 1 << 20;
const BLOCKS: usize = 8;
/// A block that holds packets is handed over after this many
/// milliseconds even if it is not full.
pub const RETIRE_MS: u32 = 50;
/// `tp_frame_size`: only used by the kernel to check the request's
/// arithmetic (a TPACKET_V3 block holds packets of any size up to its own).
const FRAME_SIZE: usize = 2048;
const SOL_PACKET: libc::c_int = 263;
const TPACKET_V3: libc::c_int = 2;
/// `tpacket_block_desc`: `version`, `offset_to_priv`, then
/// `tpacket_hdr_v1`'s `block_status`, `num_pkts`, `offset_to_first_pkt`.
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST: usize = 16;
/// `tpacket3_hdr` is 48 bytes; its `sockaddr_ll` follows it (aligned to
/// 16, so at 48).
const HDR_LEN: usize = 48;

/// `struct tpacket_req3`.
#[repr(C)]
struct Req3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

/// The mapped ring of a packet socket.
pub struct Ring {
    sock: OwnedFd,
    map: *mut u8,
    len: usize,
    /// The block to read next.
    next: usize,
}

// SAFETY: the mapping belongs to this value alone (one reader thread owns
// it); the kernel's side is synchronised through each block's status word.
unsafe impl Send for Ring {}

/// One packet in a block.
pub struct Packet<'a> {
    /// Where it came from (`sll_pkttype`, `sll_ifindex`, `sll_protocol`...).
    pub from: libc::sockaddr_ll,
    /// When the kernel saw it, since the Unix epoch.
    pub ts: Duration,
    /// The packet (cut at the filter's snap length).
    pub data: &'a [u8],
    /// Its length on the wire.
    pub len: usize,
}

impl Ring {
    /// Set up the ring on `sock` (a fresh `AF_PACKET` socket, before it
    /// is bound) and map it.
    pub fn new(sock: OwnedFd) -> std::io::Result<Ring> {
        let fd = sock.as_raw_fd();
        crate::set_option_at(fd, SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V3)?;
        let req = Req3 {
            block_size: BLOCK_SIZE as u32,
            block_nr: BLOCKS as u32,
            frame_size: FRAME_SIZE as u32,
            frame_nr: (BLOCK_SIZE / FRAME_SIZE * BLOCKS) as u32,
            retire_blk_tov: RETIRE_MS,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        crate::set_option_at(fd, SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = BLOCK_SIZE * BLOCKS;
        // SAFETY: a shared mapping of the socket's ring, of the size just
        // asked for; nothing else maps it.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Ring {
            sock,
            map: map as *mut u8,
            len,
            next: 0,
        })
    }

    pub fn fd(&self) -> libc::c_int {
        self.sock.as_raw_fd()
    }

    /// The status word of block `i`, shared with the kernel.
    fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: `i < BLOCKS`, so the word is inside the mapping; it is
        // 4-aligned (blocks are page-aligned) and only ever accessed
        // atomically here while the mapping lives (as long as `self`).
        unsafe { &*(self.map.add(i * BLOCK_SIZE + BLOCK_STATUS) as *const AtomicU32) }
    }

    /// Call `each` for every packet of the next full block, waiting for
    /// one at most `timeout`; then the block goes back to the kernel.
    /// `Ok(0)` when none came in time.
    pub fn read_block(
        &mut self,
        timeout: Duration,
        mut each: impl FnMut(Packet<'_>),
    ) -> std::io::Result<usize> {
        let i = self.next;
        if self.status(i).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            let mut pfd = libc::pollfd {
                fd: self.fd(),
                events: libc::POLLIN | libc::POLLERR,
                revents: 0,
            };
            // SAFETY: one pollfd, alive for the call.
            let r = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                return if e.kind() == std::io::ErrorKind::Interrupted {
                    Ok(0)
                } else {
                    Err(e)
                };
            }
            if self.status(i).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                return Ok(0);
            }
        }
        // SAFETY: the block is ours until its status goes back to the
        // kernel below; it lies inside the mapping.
        let block = unsafe { std::slice::from_raw_parts(self.map.add(i * BLOCK_SIZE), BLOCK_SIZE) };
        let word = |at: usize| -> usize {
            block
                .get(at..at + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let half = |at: usize| -> usize {
            block
                .get(at..at + 2)
                .map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]) as usize)
        };
        let count = word(BLOCK_NUM_PKTS);
        let mut at = word(BLOCK_FIRST);
        let mut seen = 0;
        for _ in 0..count {
            // `tpacket3_hdr`: next offset, sec, nsec, snaplen, len,
            // status, mac offset, net offset; the sockaddr_ll after it.
            if at + HDR_LEN + std::mem::size_of::<libc::sockaddr_ll>() > BLOCK_SIZE {
                break;
            }
            let (next, sec, nsec) = (word(at), word(at + 4), word(at + 8));
            let (snaplen, len, net) = (word(at + 12), word(at + 16), half(at + 26));
            // SAFETY: the bytes are inside the block (checked above); the
            // kernel wrote a sockaddr_ll there; any bit pattern is valid.
            let from: libc::sockaddr_ll =
                unsafe { std::ptr::read_unaligned(block.as_ptr().add(at + HDR_LEN) as *const _) };
            if let Some(data) = block.get(at + net..at + net + snaplen) {
                each(Packet {
                    from,
                    ts: Duration::new(sec as u64, nsec as u32),
                    data,
                    len,
                });
                seen += 1;
            }
            if next == 0 {
                break;
            }
            at += next;
        }
        self.status(i)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.next = (i + 1) % BLOCKS;
        Ok(seen)
    }

    /// Packets the kernel dropped (every block full) since the last call.
    pub fn drops(&self) -> u32 {
        // SAFETY: an all-zero tpacket_stats_v3 is valid.
        let mut stats: libc::tpacket_stats_v3 = unsafe { std::mem::zeroed() };
        let mut size = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `size` bytes into `stats`,
        // which is that large and alive for the call.
        let r = unsafe {
            libc::getsockopt(
                self.fd(),
                SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut stats as *mut _ as *mut libc::c_void,
                &mut size,
            )
        };
        if r < 0 {
            0
        } else {
            stats.tp_drops
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, of that length; no slice of
        // it outlives `read_block`.
        unsafe {
            libc::munmap(self.map as *mut libc::c_void, self.len);
        }
    }
}
