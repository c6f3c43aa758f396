import Foundation

/// Running the built `tokenkit` binary from tests, shared by the test targets.

/// The `tokenkit` binary beside the test bundle (the xctest bundle may sit one level deeper).
public let tokenkitBinary: String = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [dir.appendingPathComponent("tokenkit").path, dir.deletingLastPathComponent().appendingPathComponent("tokenkit").path]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

private let cacheFolder = NSTemporaryDirectory() + "tokenkit-test-cache-\(UUID().uuidString)"

/// The model cache of every run: a fresh folder, never the user's ~/.cache, removed when the
/// test process exits.
public let testCacheHome: String = {
    atexit { try? FileManager.default.removeItem(atPath: cacheFolder) }
    return cacheFolder
}()

/// What a run of the binary did.
public struct CLIRun {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: String
    public var out: String { String(decoding: stdout, as: UTF8.self) }
    public var err: String { stderr }
}

/// Runs `tokenkit args` with `stdin` (empty if nil) and extra environment variables.
public func runTokenkit(_ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:]) throws -> CLIRun {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tokenkitBinary)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": testCacheHome]) { $1 }
        .merging(environment) { $1 }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(Data(stdin)) }
    try inp.fileHandleForWriting.close()
    // Read both pipes at once: a child that fills one while we wait on the other would hang.
    final class Box: @unchecked Sendable { var data = Data() }
    let e = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { e.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return CLIRun(status: p.terminationStatus, stdout: Array(o), stderr: String(decoding: e.data, as: UTF8.self))
}
