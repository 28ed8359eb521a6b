use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The limits of one scan item (a message or a file given directly). Defaults from the spec §1.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Containers nested deeper than this are not opened.
    pub max_depth: usize,
    /// Members looked at per container.
    pub max_members: usize,
    /// Bytes decompressed or decoded for one item, all nodes together.
    pub max_total_bytes: u64,
    /// Bytes taken from one entry (archive member, stream, attachment).
    pub max_entry_bytes: u64,
    /// A member declaring more than `ratio_min_size` bytes at more than this ratio is inflated.
    pub max_ratio: u64,
    pub ratio_min_size: u64,
    /// Bytes decompressed from one archive member, padding included (Emotet padded to ~550 MB);
    /// long padding runs are counted, not kept, so this bounds time, not memory.
    pub max_inflate_bytes: u64,
    /// Wall time for one item.
    pub max_time: Duration,
    /// Password tries per encrypted archive member (ZipCrypto is cheap, AES is not).
    pub max_password_tries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 5,
            max_members: 256,
            max_total_bytes: 256 << 20,
            max_entry_bytes: 64 << 20,
            max_ratio: 100,
            ratio_min_size: 100 << 20,
            max_inflate_bytes: 1 << 30,
            max_time: Duration::from_secs(30),
            max_password_tries: 20,
        }
    }
}

/// What is left of the limits while one item is walked. Shared by the nodes of one tree.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    spent_bytes: AtomicU64,
    deadline: Instant,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        let deadline = Instant::now() + limits.max_time;
        Budget {
            limits,
            spent_bytes: AtomicU64::new(0),
            deadline,
        }
    }

    /// Bytes that may still be produced for this item.
    pub fn remaining_bytes(&self) -> u64 {
        self.limits
            .max_total_bytes
            .saturating_sub(self.spent_bytes.load(Ordering::Relaxed))
    }

    /// The most one entry may produce now: the per-entry cap or what is left, whichever is less.
    pub fn entry_cap(&self) -> usize {
        usize::try_from(self.limits.max_entry_bytes.min(self.remaining_bytes()))
            .unwrap_or(usize::MAX)
    }

    /// Record bytes produced; false when that went over the total.
    pub fn spend(&self, bytes: u64) -> bool {
        let before = self.spent_bytes.fetch_add(bytes, Ordering::Relaxed);
        before.saturating_add(bytes) <= self.limits.max_total_bytes
    }

    pub fn timed_out(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_past_the_total_is_refused() {
        let b = Budget::new(Limits {
            max_total_bytes: 100,
            max_entry_bytes: 60,
            ..Limits::default()
        });
        assert_eq!(b.entry_cap(), 60);
        assert!(b.spend(60));
        assert_eq!(b.entry_cap(), 40);
        assert!(!b.spend(41));
        assert_eq!(b.remaining_bytes(), 0);
    }
}
