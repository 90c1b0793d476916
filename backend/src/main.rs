use std::process::ExitCode;

// mimalloc returns freed memory to the OS: Argon2's 19 MiB blocks, allocated on blocking
// threads, would otherwise pile up in per-thread glibc arenas (GBs under a login flood).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    latchkey::cli::run()
}
