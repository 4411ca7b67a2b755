//! Machine code used where it lies. A bundled plugin's precompiled code is
//! expanded once per process by `ferry-bundled` into page-aligned memory
//! kept for the process: wasmtime can run it there
//! ([`Component::deserialize_raw`]) instead of copying megabytes into
//! memory it maps itself, if it is told how to make those pages executable.
//! [`Protect`] does that with `mprotect`, for in-place code and for code
//! wasmtime compiled or copied alike.
//!
//! [`Component::deserialize_raw`]: wasmtime::component::Component::deserialize_raw

/// Makes code pages executable (read + execute, never writable) and takes
/// execution away again when wasmtime drops the code.
#[cfg(unix)]
pub(crate) struct Protect;

#[cfg(unix)]
impl Protect {
    fn set(ptr: *const u8, len: usize, prot: libc::c_int) -> wasmtime::Result<()> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: wasmtime hands over the text section of code it owns or
        // that lives as long as the component (kept for the process),
        // page-aligned (it asserts `required_alignment`); changing its
        // protection touches no other memory of ours beyond the rest of its
        // last page, which stays readable and is never made writable.
        let rc = unsafe { libc::mprotect(ptr as *mut libc::c_void, len, prot) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            return Err(wasmtime::Error::msg(format!("cannot change the protection of plugin code: {e}")));
        }
        Ok(())
    }
}

#[cfg(unix)]
impl wasmtime::CustomCodeMemory for Protect {
    fn required_alignment(&self) -> usize {
        page_size()
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        Protect::set(ptr, len, libc::PROT_READ | libc::PROT_EXEC)
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // Read-only, not read-write: in-place code may be loaded again by
        // another engine and must never become writable; code wasmtime
        // mapped itself is unmapped right after this.
        let protected = Protect::set(ptr, len, libc::PROT_READ);
        // Only now, with the code no longer executable, may another
        // component run from the same pages.
        release(ptr);
        protected
    }
}

/// In-place code regions (start, length) a live component runs from. One
/// region serves one component at a time: wasmtime registers code by
/// address for the whole process (a second component on the same pages
/// trips its registry), and dropping either would take execution away
/// from the other. A second engine loading the same plugin meanwhile (two
/// runtimes in one process) gets a copy instead.
static CLAIMED: std::sync::Mutex<Vec<(usize, usize)>> = std::sync::Mutex::new(Vec::new());

/// Claims `code` for one component to run in place; false when another
/// component already runs from it.
pub(crate) fn claim(code: &[u8]) -> bool {
    let start = code.as_ptr() as usize;
    let mut claimed = CLAIMED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if claimed.iter().any(|&(s, _)| s == start) {
        return false;
    }
    claimed.push((start, code.len()));
    true
}

/// Gives back the claimed region holding `ptr` (a component's text section,
/// which lies inside the region it was loaded from); code wasmtime mapped
/// itself lies in none.
pub(crate) fn release(ptr: *const u8) {
    let at = ptr as usize;
    let mut claimed = CLAIMED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    claimed.retain(|&(start, len)| !(start..start + len).contains(&at));
}

/// The host's page size.
#[cfg(unix)]
pub(crate) fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => 4096,
    })
}

/// True when `code` can be run in place: on Linux (where a read-only page of
/// the executable may be made executable; macOS wants such pages signed),
/// when it starts on a page boundary (its text section then does too:
/// wasmtime aligns it within the image).
#[cfg(target_os = "linux")]
pub(crate) fn runs_in_place(code: &[u8]) -> bool {
    (code.as_ptr() as usize).is_multiple_of(page_size())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn runs_in_place(_code: &[u8]) -> bool {
    false
}
