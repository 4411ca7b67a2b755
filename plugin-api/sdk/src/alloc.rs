//! The allocator `export_plugin!` installs in a plugin.
//!
//! The host instantiates a plugin in a fresh store for every call and throws
//! the store away afterwards, so nothing a call allocates outlives it. A bump
//! allocator is the cheapest allocator for that: allocation is a pointer
//! increment, and freeing only gives back the latest block (which covers
//! the common grow-a-buffer and drop-a-temporary patterns). Memory still
//! comes from `memory.grow`, so the host's memory limit applies unchanged.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

/// Grow linear memory by at least this many 64 KiB pages at a time (1 MiB).
const MIN_GROW_PAGES: usize = 16;
const PAGE: usize = 65536;

/// A bump allocator over wasm linear memory.
pub struct BumpAllocator {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: a plugin instance runs on one thread (wasm32 without threads).
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    pub const fn new() -> Self {
        BumpAllocator { next: Cell::new(0), end: Cell::new(0) }
    }

    /// Makes room for `size` bytes aligned to `align`; the start address, or
    /// `None` when the memory cannot grow (the host's limit).
    fn reserve(&self, size: usize, align: usize) -> Option<usize> {
        if self.end.get() == 0 {
            // First use: the initial memory above the static data is free.
            let (heap_base, memory_end) = initial_heap();
            self.next.set(heap_base);
            self.end.set(memory_end);
        }
        let start = align_up(self.next.get(), align)?;
        if start.checked_add(size)? <= self.end.get() {
            return Some(start);
        }
        let pages = (size.checked_add(align)?.div_ceil(PAGE)).max(MIN_GROW_PAGES);
        let base = grow(pages)?;
        // Contiguous with the current region: keep bumping from `next`.
        let start = if base == self.end.get() { start } else { align_up(base, align)? };
        self.end.set(base + pages * PAGE);
        (start + size <= self.end.get()).then_some(start)
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        Self::new()
    }
}

fn align_up(addr: usize, align: usize) -> Option<usize> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> Option<usize> {
    let previous = core::arch::wasm32::memory_grow(0, pages);
    (previous != usize::MAX).then(|| previous * PAGE)
}

/// Where the heap starts (after static data and the stack) and where the
/// initial memory ends.
#[cfg(target_arch = "wasm32")]
fn initial_heap() -> (usize, usize) {
    unsafe extern "C" {
        // Defined by wasm-ld.
        static __heap_base: u8;
    }
    (&raw const __heap_base as usize, core::arch::wasm32::memory_size(0) * PAGE)
}

/// Native builds (a plugin's unit tests) never install this allocator.
#[cfg(not(target_arch = "wasm32"))]
fn grow(_pages: usize) -> Option<usize> {
    None
}

#[cfg(not(target_arch = "wasm32"))]
fn initial_heap() -> (usize, usize) {
    (0, 0)
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.reserve(layout.size(), layout.align()) {
            Some(start) => {
                self.next.set(start + layout.size());
                start as *mut u8
            }
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the latest block can be given back.
        if ptr as usize + layout.size() == self.next.get() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        // The latest block grows (or shrinks) in place when memory allows.
        if start + layout.size() == self.next.get() {
            if new_size <= layout.size() || start + new_size <= self.end.get() {
                self.next.set(start + new_size);
                return ptr;
            }
        } else if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees `layout` describes `ptr`, and
        // `new_size` is valid for its alignment.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
