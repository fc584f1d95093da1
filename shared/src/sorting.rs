//! Stable sorting through one copy of the standard library's sort. Each `sort_by` with its own
//! element type and closure is its own ~7 KB copy of the sort in the browser's wasm (ten of
//! them were 72 KB of the module every phone loads first); these sort positions through a
//! `dyn` comparison instead, so every caller shares one copy, at the price of an indirect call
//! per comparison and a second pass that moves the elements into place. Clippy refuses the
//! standard sorts in `shared` and `frontend` (their `clippy.toml`), so none creeps back.

use std::cmp::Ordering;

/// `v.sort_by(cmp)`: stable.
pub fn sort_by<T>(v: &mut Vec<T>, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_positions(&mut order, &mut |a, b| cmp(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// `v.sort_by_key(key)`: stable.
pub fn sort_by_key<T, K: Ord>(v: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// `v.sort()`: stable.
pub fn sort<T: Ord>(v: &mut Vec<T>) {
    sort_by(v, T::cmp);
}

/// The one instantiation of the standard sort (never inlined into a caller, which would copy
/// it again).
#[inline(never)]
fn sort_positions(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one copy everything else goes through"
    )]
    order.sort_by(|a, b| cmp(*a, *b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(clippy::disallowed_methods, reason = "compared with the standard sort")]
    fn sorts_stably_as_the_standard_sort_does() {
        let words = [
            "pear", "fig", "apple", "kiwi", "date", "plum", "lime", "", "fig",
        ];
        let mut ours: Vec<(usize, &str)> = words.iter().copied().enumerate().collect();
        let mut std = ours.clone();
        sort_by_key(&mut ours, |(_, w)| w.len());
        std.sort_by_key(|(_, w)| w.len());
        assert_eq!(ours, std);
        let mut plain: Vec<&str> = words.to_vec();
        sort(&mut plain);
        let mut expected = words.to_vec();
        expected.sort();
        assert_eq!(plain, expected);
        let mut empty: Vec<u8> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
    }
}
