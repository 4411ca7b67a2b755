fn main() -> std::process::ExitCode {
    ferry::run()
}
