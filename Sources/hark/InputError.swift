/// Bad input found while a command runs: a file's content, a device, a take that could not be
/// kept. It exits 1 with its message; mistakes in the command line itself are `ValidationError`s
/// (exit 64, with the usage).
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
