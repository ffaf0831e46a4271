//! Segment geometry: where each mapped segment lies in the file.
//!
//! Segment `k` covers bytes `[B * (2^k - 1), B * (2^(k+1) - 1))` where `B` is the size of
//! segment 0, so segment sizes double (`B`, `2B`, `4B`, ...) and the segment holding a byte
//! offset is found with one leading-zero count:
//! ```text
//!  file: | seg 0 (B) | seg 1 (2B)          | seg 2 (4B)                              | ...
//!        0           B                     3B                                        7B
//! ```
//! The geometry is in bytes, so it does not depend on the page size.

/// Most segments a pager will ever map (segment 40 alone would be `2^40 * B` bytes).
pub const MAX_SEGMENTS: usize = 40;

/// Segment geometry with a first segment of `base` bytes (a power of two).
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    base_shift: u32,
}

impl Geometry {
    /// Geometry whose segment 0 is `base` bytes; `base` must be a power of two.
    pub fn new(base: u64) -> Geometry {
        assert!(
            base.is_power_of_two(),
            "segment base must be a power of two"
        );
        Geometry {
            base_shift: base.trailing_zeros(),
        }
    }

    /// Index of the segment holding byte `offset`.
    #[inline]
    pub fn segment_of(&self, offset: u64) -> usize {
        let units = (offset >> self.base_shift) + 1;
        (63 - units.leading_zeros()) as usize
    }

    /// First byte of segment `k`.
    #[inline]
    pub fn start(&self, k: usize) -> u64 {
        ((1u64 << k) - 1) << self.base_shift
    }

    /// Length in bytes of segment `k`.
    #[inline]
    pub fn len(&self, k: usize) -> u64 {
        1u64 << (k as u32 + self.base_shift)
    }

    /// One past the last byte of segment `k`.
    pub fn end(&self, k: usize) -> u64 {
        self.start(k) + self.len(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_tile_the_file() {
        let g = Geometry::new(1 << 20);
        let mut at = 0;
        for k in 0..20 {
            assert_eq!(g.start(k), at);
            assert_eq!(g.segment_of(at), k);
            assert_eq!(g.segment_of(at + g.len(k) - 1), k);
            at += g.len(k);
        }
    }
}
