//! First-N-bytes TCP reassembly of one direction, and the global payload memory budget.
//!
//! Limits (also in the module docs of `capture`): bytes are placed by sequence number; data
//! before the next expected byte (retransmissions, overlaps) is dropped, so the first copy wins;
//! up to [`MAX_PENDING`] segments up to [`OOO_WINDOW`] bytes ahead wait for a hole to fill. A
//! segment further ahead, a full pending queue, a segment cut by the snap length or a denied
//! budget stop the stream and mark it as having a gap.

/// Out-of-order segments held per direction.
pub(crate) const MAX_PENDING: usize = 32;
/// How far ahead of the next expected byte a segment may start and still be held.
pub(crate) const OOO_WINDOW: u32 = 256 * 1024;

/// Payload bytes retained by all open connections together.
#[derive(Debug)]
pub(crate) struct Budget {
    used: usize,
    limit: usize,
    /// Bytes refused because the budget was spent.
    pub(crate) denied: u64,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget {
            used: 0,
            limit,
            denied: 0,
        }
    }

    /// Reserve up to `n` bytes; returns how many were granted.
    pub(crate) fn take(&mut self, n: usize) -> usize {
        let granted = n.min(self.limit.saturating_sub(self.used));
        self.used += granted;
        self.denied = self.denied.saturating_add((n - granted) as u64);
        granted
    }

    pub(crate) fn give_back(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used
    }
}

#[derive(Debug)]
struct Pending {
    seq: u32,
    data: Vec<u8>,
    /// The segment was cut (snap length or cap): a hole follows it.
    cut: bool,
}

/// One direction's first in-order bytes.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// Sequence number of the next byte expected (`None` until the SYN or the first data).
    next: Option<u32>,
    pub(crate) buf: Vec<u8>,
    pending: Vec<Pending>,
    gap: bool,
    stopped: bool,
}

impl Stream {
    /// The SYN (or SYN+ACK) carried initial sequence number `isn`: data starts at `isn + 1`.
    pub(crate) fn on_syn(&mut self, isn: u32) {
        if self.next.is_none() {
            self.next = Some(isn.wrapping_add(1));
        }
    }

    /// A segment whose first payload byte has sequence number `seq` and which carried `wire_len`
    /// payload bytes on the wire, of which `data` were captured.
    pub(crate) fn on_data(
        &mut self,
        seq: u32,
        data: &[u8],
        wire_len: u32,
        cap: usize,
        budget: &mut Budget,
    ) {
        if self.stopped || cap == 0 || wire_len == 0 {
            return;
        }
        let data = data.get(..wire_len as usize).unwrap_or(data);
        let complete = data.len() == wire_len as usize;
        let next = *self.next.get_or_insert(seq);
        let rel = seq.wrapping_sub(next) as i32;
        if rel <= 0 {
            if rel.unsigned_abs() >= wire_len {
                // Seen before (retransmission).
                return;
            }
            self.place(rel, data, complete, cap, budget);
            self.drain(cap, budget);
            return;
        }
        // Ahead of a hole.
        let ahead = rel.unsigned_abs();
        if ahead > OOO_WINDOW || self.pending.len() >= MAX_PENDING {
            self.stop(true, budget);
            return;
        }
        let room = cap.saturating_sub(self.buf.len());
        let ahead = ahead as usize;
        if ahead >= room {
            // Only bytes past the cap: nothing to keep.
            return;
        }
        let want = data.len().min(room - ahead);
        let granted = budget.take(want);
        let Some(part) = data.get(..granted) else {
            budget.give_back(granted);
            return;
        };
        self.pending.push(Pending {
            seq,
            data: part.to_vec(),
            cut: !complete || granted < data.len(),
        });
    }

    /// Place a segment starting at or before the next expected byte (`rel` ≤ 0) whose wire
    /// bytes reach past it; `complete` is false when `data` stops short of the wire length.
    fn place(&mut self, rel: i32, data: &[u8], complete: bool, cap: usize, budget: &mut Budget) {
        let skip = rel.unsigned_abs() as usize;
        let fresh = data.get(skip..).unwrap_or(&[]);
        let room = cap.saturating_sub(self.buf.len());
        let want = fresh.len().min(room);
        let granted = budget.take(want);
        if let Some(part) = fresh.get(..granted) {
            self.buf.extend_from_slice(part);
        }
        if let Some(n) = self.next.as_mut() {
            *n = n.wrapping_add(granted as u32);
        }
        if self.buf.len() >= cap {
            self.stop(false, budget);
        } else if granted < want || !complete {
            self.stop(true, budget);
        }
    }

    /// Move pending segments that now touch the stream into it.
    fn drain(&mut self, cap: usize, budget: &mut Budget) {
        while !self.stopped {
            let Some(next) = self.next else {
                return;
            };
            let Some(i) = self
                .pending
                .iter()
                .position(|p| p.seq.wrapping_sub(next) as i32 <= 0)
            else {
                return;
            };
            let p = self.pending.swap_remove(i);
            budget.give_back(p.data.len());
            let rel = p.seq.wrapping_sub(next) as i32;
            if rel.unsigned_abs() as usize >= p.data.len() && !p.cut {
                // Wholly covered by what is already in the stream.
                continue;
            }
            self.place(rel, &p.data, !p.cut, cap, budget);
        }
    }

    fn stop(&mut self, gap: bool, budget: &mut Budget) {
        self.stopped = true;
        self.gap |= gap;
        for p in self.pending.drain(..) {
            budget.give_back(p.data.len());
        }
    }

    /// Bytes held against the budget.
    pub(crate) fn held(&self) -> usize {
        self.buf.len() + self.pending.iter().map(|p| p.data.len()).sum::<usize>()
    }

    /// Hand the stream out: its bytes, and whether a hole cut it short. Releases everything it
    /// held from the budget.
    pub(crate) fn take_out(&mut self, budget: &mut Budget) -> (Vec<u8>, bool) {
        let gap = self.gap || !self.pending.is_empty();
        budget.give_back(self.held());
        self.pending.clear();
        self.stopped = true;
        (std::mem::take(&mut self.buf), gap)
    }

    /// Store a whole datagram payload as the stream (UDP: first datagram of the direction).
    pub(crate) fn set_datagram(
        &mut self,
        data: &[u8],
        complete: bool,
        cap: usize,
        budget: &mut Budget,
    ) {
        if self.stopped {
            return;
        }
        let want = data.len().min(cap);
        let granted = budget.take(want);
        if let Some(part) = data.get(..granted) {
            self.buf.extend_from_slice(part);
        }
        self.gap = granted < want || (!complete && want == data.len());
        self.stopped = true;
    }
}
