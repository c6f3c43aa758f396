import Foundation
import Testing
import TokenKitCore

/// Replays every case in Fixtures/fuzz/cases/: inputs that once crashed or hung tokenkit (found
/// by Scripts/fuzz or by hand, issue 18). Each folder holds the input files and commands.txt,
/// one tab-separated command line per line, run in that folder. Every command must end on its
/// own with status 0, 1 (bad input) or 2 (bad usage): no signal, no hang.
@Suite struct FuzzRegressionTests {
    static let cases: [String] = {
        let dir = fixture("fuzz/cases")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }()

    @Test func casesArePresent() {
        #expect(FuzzRegressionTests.cases.count >= 8)
    }

    @Test(arguments: FuzzRegressionTests.cases)
    func replay(_ dir: String) throws {
        let text = try String(contentsOfFile: dir + "/commands.txt", encoding: .utf8)
        for line in text.split(separator: "\n") {
            let args = line.split(separator: "\t").map(String.init)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLITests.binary)
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": CLITests.cacheHome]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            let hung = p.isRunning
            if hung { p.terminate() }
            p.waitUntilExit()
            #expect(!hung, "\(dir): \(line) still running after 120 s")
            #expect(p.terminationReason == .exit && (0...2).contains(p.terminationStatus),
                    "\(dir): \(line) ended by \(p.terminationReason == .exit ? "exit" : "signal") \(p.terminationStatus)")
        }
    }
}
