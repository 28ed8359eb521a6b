//! Whole-tree traversal under a budget, collecting problems instead of stopping.

use super::cells::{Ctx, Key};
use super::{Hive, HiveError, MAX_DEPTH};

/// What [`walk`] saw.
#[derive(Debug, Default)]
pub struct WalkStats {
    /// Keys visited (the root included).
    pub keys: usize,
    /// Values read (with data possibly cut short, see `problems`).
    pub values: usize,
    /// Problems met, in the order met, each with its file offset (at most [`super::MAX_PROBLEMS`]).
    pub problems: Vec<HiveError>,
    /// Problems beyond [`super::MAX_PROBLEMS`], only counted.
    pub problems_omitted: usize,
    /// The walk stopped at `max_keys` before the end of the tree.
    pub truncated: bool,
}

/// Visits every key reachable from the root (depth-first, at most `max_keys` keys, nesting up to
/// [`MAX_DEPTH`]) and reads every value. A damaged list, key or value is recorded in `problems`
/// and the walk goes on with its siblings; every cell is used at most once, so the work is
/// bounded by the file size.
pub fn walk(hive: &Hive<'_>, max_keys: usize) -> WalkStats {
    let mut stats = WalkStats::default();
    let mut ctx = Ctx::new();
    if let Some(e) = hive.truncation() {
        ctx.problem(e);
    }
    match hive.root() {
        Ok(root) => {
            ctx.claim(root.offset(), "key node (nk)");
            visit(root, max_keys, &mut ctx, &mut stats);
        }
        Err(e) => ctx.problem(e),
    }
    stats.problems = ctx.problems;
    stats.problems_omitted = ctx.omitted;
    stats
}

/// The traversal itself, with an explicit stack.
fn visit(root: Key<'_>, max_keys: usize, ctx: &mut Ctx, stats: &mut WalkStats) {
    let mut stack = vec![(root, 0usize)];
    while let Some((key, depth)) = stack.pop() {
        if stats.keys >= max_keys {
            stats.truncated = true;
            return;
        }
        stats.keys += 1;
        stats.values += key.read_values(ctx).len();
        if key.subkey_count() == 0 {
            continue;
        }
        if depth + 1 >= MAX_DEPTH {
            ctx.problem(HiveError::TooDeep {
                what: "key",
                offset: super::cells::file_offset(key.offset()),
                limit: MAX_DEPTH,
            });
            continue;
        }
        let children = key.read_subkeys(ctx);
        stack.extend(children.into_iter().rev().map(|k| (k, depth + 1)));
    }
}
