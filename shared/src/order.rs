//! One compiled sort for the whole app.
//!
//! The standard library's sorts (driftsort for `sort*`, ipnsort for `sort_unstable*`) are
//! fast but large: each call site with its own element type or comparator compiles its own
//! copy, a few KB of wasm each. With ~60 sorts in `shared` and the two client crates, the
//! copies were ~190 KB of each wasm module before `wasm-opt` (twiggy, 2026-12-05), shipped
//! to every phone. Here every sort orders plain indices with one comparator behind `dyn`,
//! so the standard sort is compiled once, and then moves the elements into place along the
//! permutation's cycles (a few hundred bytes per element type).
//!
//! The cost is one indirect call and two index lookups per comparison: ~1 ms per 10,000
//! elements natively. Sorts on a hot path (the book's name and recency orders of up to
//! 50,000 customers, rebuilt at start) keep the standard sort: see `search::book`.
//!
//! `clippy.toml` in `shared/` and `client/` forbids the standard sorts so new call sites
//! come here.

use std::cmp::Ordering;

/// Sorts `items` stably by `compare`, like `slice::sort_by`.
pub fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = {
        let view: &[T] = items;
        permutation(view.len(), &mut |a, b| compare(&view[a], &view[b]))
    };
    apply(items, order);
}

/// Sorts `items` stably by a key, like `slice::sort_by_key`.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` in their natural order, like `slice::sort`.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// The stable order of `len` elements under `compare`: position `i` of the result names
/// the element that belongs at `i`. Not generic, so it is compiled once.
#[inline(never)]
fn permutation(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    #[allow(clippy::disallowed_methods)] // the one place the standard sort is compiled
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Moves every element to its place: `order[i]` is the index (before the move) of the
/// element that belongs at `i`. Follows each cycle of the permutation once, so O(n) swaps.
fn apply<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..items.len() {
        if order[start] == DONE {
            continue;
        }
        // Position `at` holds the element that started at `start`; it belongs where the
        // cycle closes.
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic shuffle (no randomness in `shared`).
    fn scrambled(len: usize, seed: u64) -> Vec<(u32, usize)> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (((state >> 33) % 50) as u32, i)
            })
            .collect()
    }

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        for len in [0, 1, 2, 3, 7, 20, 21, 100, 1000, 4097] {
            for seed in 0..5 {
                let mut ours = scrambled(len, seed);
                let mut theirs = ours.clone();
                sort_by_key(&mut ours, |&(key, _)| key);
                #[allow(clippy::disallowed_methods)]
                theirs.sort_by_key(|&(key, _)| key);
                // Equal keys keep their order: the second field tells them apart.
                assert_eq!(ours, theirs, "len {len} seed {seed}");
            }
        }
    }

    #[test]
    fn sorts_reversed_and_sorted_input_and_owned_values() {
        let mut words: Vec<String> = (0..500).rev().map(|n| format!("w{n:04}")).collect();
        sort(&mut words);
        assert!(words.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(words[0], "w0000");
        sort_by(&mut words, |a, b| b.cmp(a));
        assert_eq!(words[0], "w0499");
        assert_eq!(words.len(), 500);
    }

    #[test]
    fn every_permutation_of_five_is_applied() {
        // All 120 orders of five elements: each cycle structure the move must follow.
        let mut perm = [0usize, 1, 2, 3, 4];
        let mut seen = 0;
        loop {
            let mut items: Vec<usize> = perm.to_vec();
            sort(&mut items);
            assert_eq!(items, vec![0, 1, 2, 3, 4], "from {perm:?}");
            seen += 1;
            // Next permutation in lexicographic order.
            let Some(i) = (0..4).rev().find(|&i| perm[i] < perm[i + 1]) else {
                break;
            };
            let j = (i + 1..5)
                .rev()
                .find(|&j| perm[j] > perm[i])
                .expect("exists");
            perm.swap(i, j);
            perm[i + 1..].reverse();
        }
        assert_eq!(seen, 120);
    }
}
