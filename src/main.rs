fn main() -> std::process::ExitCode {
    cems_workbench::cli::run()
}
