//! Slot heads: which 4 bytes of a key its slot carries.
//!
//! ```text
//!  key:   | page prefix (p bytes) | lead | gap (g bytes)   | rest ...
//!                                 +------+                 +--------
//!  head:                          | lead | rest ...  (first 4 bytes, big-endian, zero-padded)
//!
//!  header byte `head_gap` (slotted pages):
//!     7    6 5                 0
//!    +------+-------------------+
//!    | lead |      g (gap)      |      0 = no gap: the head is the 4 bytes after the prefix
//!    +------+-------------------+      otherwise lead in 1..=3 and g in 1..=63
//! ```
//! Every keyed key of the page starts with the same `p` bytes (the page prefix) and, when the
//! page has a gap, holds the same bytes in its `g` positions from `p + lead` on (the gap), as
//! far as it reaches into them: no two keys differ inside the gap, though a key may end before
//! it or inside it. The head skips the prefix and the gap, so it holds bytes that tell keys
//! apart. Composite keys are why: a branch over a few tenants of `org-0421/user-01234567/p` has
//! the prefix `org-042`, and the 4 bytes after it, `1/us`, are the same for a whole tenant;
//! skipping `/user-` gives heads like `1012`, which differ. (A separator between tenants such
//! as `org-0422` ends before the gap, which is why a key may.) Without the gap such a page's
//! search read a cell for every probe inside the tenant's run of equal heads.
//!
//! Why heads still order like keys: take two such keys `a < b` and the first position where
//! they differ, or where the shorter ends. Before the gap, dropping the gap from both keeps
//! that position and its bytes; inside the gap they cannot differ, so there the shorter one
//! ends and what is left of it is a prefix of what is left of the other; after the gap both
//! hold all of it and drop the same positions. So `a` without the gap sorts at or before `b`
//! without it, and a head, a zero-padded prefix of that, is never larger for `a`. A search key
//! that does not start with the prefix or differs from the gap has a head that means nothing;
//! the search then finds its place by whole keys (`slotted.rs`).

use crate::order::word;

/// Longest gap a page records (6 bits).
pub(crate) const MAX_GAP: usize = 63;
/// Most head bytes taken before the gap: with 4 or more there is nothing to skip.
pub(crate) const MAX_LEAD: usize = 3;

/// How a page's slot heads are cut from its keys: the header's `prefix_len` and `head_gap`
/// as they are. Small, as it travels with every page view, and read without a check: every
/// `head_gap` byte has a meaning (a lead without a gap or a gap without a lead reads as no
/// gap, and `check_heads` reports such a byte, which is never written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadShape {
    /// Bytes every keyed key shares at its start (`prefix_len` in the header).
    prefix: u16,
    /// The header's `head_gap` byte: the lead in the top two bits, the gap in the low six.
    byte: u8,
}

impl HeadShape {
    /// Heads are the 4 bytes after `prefix`.
    pub(crate) fn plain(prefix: usize) -> HeadShape {
        HeadShape::new(prefix, 0, 0)
    }

    fn new(prefix: usize, lead: usize, gap: usize) -> HeadShape {
        debug_assert!(prefix <= usize::from(u16::MAX) && lead <= MAX_LEAD && gap <= MAX_GAP);
        debug_assert_eq!(lead == 0, gap == 0);
        HeadShape {
            prefix: prefix as u16,
            byte: ((lead as u8) << 6) | gap as u8,
        }
    }

    /// The shape of a page whose header holds `prefix_len` and `head_gap`.
    #[inline]
    pub(crate) fn decode(prefix_len: u16, head_gap: u8) -> HeadShape {
        HeadShape {
            prefix: prefix_len,
            byte: head_gap,
        }
    }

    /// The header's `prefix_len` for this shape.
    pub(crate) fn prefix_len(self) -> u16 {
        self.prefix
    }

    /// The header's `head_gap` byte for this shape, as written (a half gap becomes 0).
    pub(crate) fn gap_byte(self) -> u8 {
        ((self.lead() as u8) << 6) | self.gap() as u8
    }

    /// Whether the header's `head_gap` byte is one a writer writes (not a half gap).
    pub(crate) fn is_canonical(self) -> bool {
        self.byte == self.gap_byte()
    }

    /// Bytes every keyed key starts with.
    #[inline]
    pub(crate) fn prefix(self) -> usize {
        usize::from(self.prefix)
    }

    /// Head bytes taken after the prefix before the gap (1 to 3); 0 when there is no gap.
    #[inline]
    fn lead(self) -> usize {
        if self.gap() == 0 {
            0
        } else {
            usize::from(self.byte >> 6)
        }
    }

    /// Bytes no two keyed keys differ in from `prefix + lead` on, skipped by the heads; 0 for
    /// none.
    #[inline]
    pub(crate) fn gap(self) -> usize {
        let (lead, gap) = (self.byte >> 6, self.byte & 0x3F);
        if lead == 0 { 0 } else { usize::from(gap) }
    }

    /// The part of the gap `key` reaches into (empty for a key that ends before it).
    #[inline]
    pub(crate) fn in_gap(self, key: &[u8]) -> &[u8] {
        let at = self.prefix() + self.lead();
        let rest = key.get(at..).unwrap_or(&[]);
        &rest[..rest.len().min(self.gap())]
    }

    /// The head of `key`: its 4 bytes after the prefix, past the gap if there is one.
    #[inline(always)]
    pub(crate) fn head(self, key: &[u8]) -> u32 {
        let rest = key.get(self.prefix()..).unwrap_or(&[]);
        let mut bytes = word(rest);
        if self.byte != 0 && self.gap() != 0 {
            // The lead bytes of `rest`, then its bytes past the gap (`lead` is 1 to 3).
            let lead = self.lead();
            let after = rest.get(lead + self.gap()..).unwrap_or(&[]);
            bytes = (bytes & (u64::MAX << (64 - 8 * lead))) | (word(after) >> (8 * lead));
        }
        (bytes >> 32) as u32
    }

    /// Whether `a` and `b` hold the same bytes in the part of the gap both reach into.
    #[inline]
    pub(crate) fn agree_in_gap(self, a: &[u8], b: &[u8]) -> bool {
        let (a, b) = (self.in_gap(a), self.in_gap(b));
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    }
}

/// The shape for keys that share `prefix` bytes: the gap that starts 1 to 3 bytes after the
/// prefix (the first such start that has one) and runs as far as no two keys differ, capped
/// at [`MAX_GAP`]; none if every one of those starts has keys that differ there. A gap that
/// fewer than half of the keys hold whole is not taken: it would skip bytes most keys do not
/// have (short branch separators end before most positions), and every insert would then
/// search the page for a key to compare the gap with.
pub(crate) fn choose<'k>(prefix: usize, keys: impl Iterator<Item = &'k [u8]> + Clone) -> HeadShape {
    for lead in 1..=MAX_LEAD {
        let at = prefix + lead;
        // The bytes from `at` of the key reaching furthest into the gap so far: every key
        // seen agrees with them as far as both go, up to `gap`.
        let mut model: &[u8] = &[];
        let mut gap = MAX_GAP;
        for key in keys.clone() {
            let theirs = key.get(at..).unwrap_or(&[]);
            let both = theirs.len().min(model.len()).min(gap);
            let same = common_prefix(&theirs[..both], &model[..both]);
            if same < both {
                gap = same;
                if gap == 0 {
                    break;
                }
            } else if theirs.len() > model.len() && model.len() < gap {
                model = theirs;
            }
        }
        let gap = gap.min(model.len());
        if gap > 0 {
            let shape = HeadShape::new(prefix, lead, gap);
            let (mut whole, mut all) = (0, 0);
            for key in keys.clone() {
                all += 1;
                whole += usize::from(shape.in_gap(key).len() == gap);
            }
            if 2 * whole >= all {
                return shape;
            }
        }
    }
    HeadShape::plain(prefix)
}

/// Length of the common prefix of `a` and `b`.
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::compare_keys;

    fn keys(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|k| k.as_bytes().to_vec()).collect()
    }

    #[test]
    fn the_gap_is_the_first_shared_run_after_the_prefix() {
        let tenants = keys(&[
            "org-0421/user-01234567/p",
            "org-0422/user-00000001/p",
            "org-0423/user-09999999/p",
        ]);
        let shape = choose(7, tenants.iter().map(Vec::as_slice));
        assert_eq!(shape, HeadShape::new(7, 1, "/user-0".len()));
        assert_eq!(shape.head(&tenants[0]), u32::from_be_bytes(*b"1123"));
        // Keys that vary in the three bytes after the prefix have no gap.
        let random = keys(&["abc123", "abd456", "abe789"]);
        assert_eq!(
            choose(2, random.iter().map(Vec::as_slice)),
            HeadShape::plain(2)
        );
        // A key that ends before the gap, or inside it with the same bytes, leaves it; one
        // that differs inside it ends it there.
        let short = keys(&["ab1-xy5", "ab2", "ab2-x", "ab3-xy7", "ab4-xy"]);
        assert_eq!(
            choose(2, short.iter().map(Vec::as_slice)),
            HeadShape::new(2, 1, 3)
        );
        let differs = keys(&["ab1-xy5", "ab2-z", "ab3-xy7"]);
        assert_eq!(
            choose(2, differs.iter().map(Vec::as_slice)),
            HeadShape::new(2, 1, 1)
        );
        // Taken only when at least half of the keys hold the gap whole.
        let few = keys(&["ab1", "ab2-xy5", "ab3", "ab3-x"]);
        assert_eq!(
            choose(2, few.iter().map(Vec::as_slice)),
            HeadShape::plain(2)
        );
    }

    #[test]
    fn heads_order_like_keys_that_share_prefix_and_gap() {
        let mut all = Vec::new();
        for t in ["1", "2", "9"] {
            for id in [
                "", "0", "00", "0000", "0001", "01", "10", "1000000", "99", "990",
            ] {
                all.push(format!("org-042{t}/user-{id}").into_bytes());
            }
            // Keys that end before the gap or inside it.
            for short in ["", "/", "/us", "/user"] {
                all.push(format!("org-042{t}{short}").into_bytes());
            }
        }
        all.push(b"org-042".to_vec());
        all.sort();
        let shape = HeadShape::new(7, 1, "/user-".len());
        for a in &all {
            for b in &all {
                let (ha, hb) = (shape.head(a), shape.head(b));
                if ha != hb {
                    assert_eq!(ha.cmp(&hb), compare_keys(a, b), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn the_header_byte_round_trips_and_reads_half_a_gap_as_none() {
        for lead in 1..=MAX_LEAD {
            for gap in [1, 7, MAX_GAP] {
                let shape = HeadShape::new(5, lead, gap);
                assert_eq!(HeadShape::decode(5, shape.gap_byte()), shape);
            }
        }
        for half in [0, 0x40, 0x80, 0xC0, 0x01, 0x3F] {
            let shape = HeadShape::decode(5, half);
            assert_eq!((shape.gap(), shape.gap_byte()), (0, 0), "{half:#x}");
            assert_eq!(shape.head(b"abcdefghij"), u32::from_be_bytes(*b"fghi"));
        }
    }
}
