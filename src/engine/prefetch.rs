//! Hints to the CPU to start loading a cache line early. The topic store's evictions and the
//! plots' column edges read memory written long ago and spread over megabytes; asking for it a
//! little ahead overlaps those loads with the work in hand.

/// Starts loading `pointer`'s cache line. Any address will do: a prefetch is only a hint.
pub fn prefetch_ptr<T>(pointer: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and changes nothing, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(pointer.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = pointer;
}

/// [`prefetch_ptr`] of `value` (nothing when `None`).
pub fn prefetch<T>(value: Option<&T>) {
    if let Some(value) = value {
        prefetch_ptr(std::ptr::from_ref(value));
    }
}

/// [`prefetch`] for every cache line of `items`.
pub fn prefetch_all<T>(items: Option<&[T]>) {
    const LINE: usize = 64;
    let Some(items) = items else { return };
    let step = (LINE / size_of::<T>().max(1)).max(1);
    items.iter().step_by(step).for_each(|item| prefetch(Some(item)));
    prefetch(items.last());
}
