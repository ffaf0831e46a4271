//! A cache hint for memory the caller will read soon.

/// Asks the CPU to start loading the cache line that holds `bytes[0]`, without waiting for it.
/// A hint only: it never faults, changes no memory and may be ignored; on targets without a
/// prefetch instruction here it does nothing. An empty slice is ignored.
#[inline]
pub fn prefetch(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has (it is in the target's
    // baseline feature set). It reads no memory architecturally and cannot fault, even for an
    // unmapped address; here the address is the first byte of a live slice anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast());
    }
}
