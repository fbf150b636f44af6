//! Keeping a vector in order as items arrive, without sorting it.
//!
//! The lists the browser follows are sorted when they arrive and gain one item at a
//! time. A sort per item type cost the WASM client about 2 KB of code for each of the
//! seven types it sorted (the standard library's stable sort is large); a binary search
//! and an insert cost a few dozen bytes, and do less work.

use std::cmp::Ordering;

/// Inserts `item` into `items`, which are in `order`, after the items equal to it.
pub fn insert<T>(items: &mut Vec<T>, item: T, order: impl Fn(&T, &T) -> Ordering) {
    let at = items.partition_point(|x| order(x, &item) != Ordering::Greater);
    items.insert(at, item);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_land_in_order_and_equal_ones_keep_their_arrival_order() {
        let mut items: Vec<(i32, char)> = Vec::new();
        for item in [(3, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (0, 'e'), (2, 'f')] {
            insert(&mut items, item, |x, y| x.0.cmp(&y.0));
        }
        assert_eq!(
            items,
            [(0, 'e'), (1, 'b'), (2, 'c'), (2, 'f'), (3, 'a'), (3, 'd')]
        );
    }
}
