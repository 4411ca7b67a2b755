/// mimalloc instead of glibc's allocator: rendering is allocation-bound on
/// the host side (each plugin's template is parsed into a JSON tree, and the
/// stacks are assembled and written from trees), and glibc's malloc and
/// free were a fifth of a render's time (LBWS render 298 → 264 µs in
/// `cargo bench --profile release -p ferry-runtime`, which uses the same).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ferry::run()
}
