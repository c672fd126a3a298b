import Stream

/// The files a command will write, checked before it starts work, so that a recording, a training
/// run or an evaluation is not lost at its end to a name that cannot take the file (a device, a
/// FIFO, a folder, a read-only file). Every command that writes a file calls this; the rule
/// itself is `OutputFile`'s, which the writers apply again when they rename.
func checkOutputs(_ paths: String...) throws {
    for path in paths { _ = try OutputFile.check(path) }
}
