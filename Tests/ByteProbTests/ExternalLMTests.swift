import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore
import TestSupport

/// Scripts/lm_stub.py's model, computed here.
final class StubLM: TokenLM {
    let n: Int, vocabSize: Int
    init(n: Int, vocabSize: Int) { self.n = n; self.vocabSize = vocabSize }
    func next(_ context: [TokenID]) throws -> NextTokens {
        let last = context.last.map(Int.init) ?? n
        let w = (0..<n).map { Double(1 + (31 * $0 + 17 * last) % 7) }
        let z = w.reduce(2, +)
        var lp = [Double](repeating: -.infinity, count: vocabSize)
        for t in 0..<n { lp[t] = log(w[t] / z) }
        return NextTokens(logprobs: lp, eos: log(2 / z))
    }
}

@Suite struct ExternalLMTests {
    let script = fixtures + "/../Scripts/lm_stub.py"

    /// byteprob through the JSON-lines protocol equals byteprob with the same model in process.
    @Test func protocolMatchesInProcess() throws {
        let space = try Spaces.shared.get("models/r50k_base.tiktoken")
        let external = CachedLM(try ExternalLM(command: "python3 \(script) 300", vocabSize: space.vocabSize))
        let local = CachedLM(StubLM(n: 300, vocabSize: space.vocabSize))
        let a = ByteModel(space: space, lm: external), b = ByteModel(space: space, lm: local)
        var possible = 0
        for prompt in ["", "a", "ab", "Hello wor", "x  ", "caf\u{e9}", "\u{e9}"] {
            var bytes = Array(prompt.utf8)
            if prompt == "\u{e9}" { bytes.removeLast() }  // ends inside a UTF-8 character
            // Prompts the LM cannot produce are the same error both ways.
            let da = Result { try a.next(text: bytes) }, db = Result { try b.next(text: bytes) }
            switch (da, db) {
            case (.success(let da), .success(let db)):
                possible += 1
                #expect(maxError(da, db) < 1e-12, "\(prompt.debugDescription)")
                #expect(abs(da.probs.reduce(da.end, +) - 1) < 1e-12)
            case (.failure(let ea), .failure(let eb)):
                #expect("\(ea)" == "\(eb)" && "\(ea)".contains("probability 0"), "\(prompt.debugDescription): \(ea)")
            default:
                Issue.record("\(prompt.debugDescription): \(da) in a process, \(db) in this one")
            }
        }
        #expect(possible >= 4, "\(possible) prompts with a distribution")
        // Repeated contexts are answered from the cache.
        #expect(external.calls == local.calls)
        let before = external.calls
        _ = try a.next(text: Array("a".utf8))
        #expect(external.calls == before)
    }

    /// Runs `byteprob next` on r50k with `--lm-command "python3 STUB MODE"`, the stub written
    /// to a fresh folder: it answers every request as MODE says, and after stdin closes it
    /// lingers (a minute) when `linger`. Returns the run and its wall time in seconds.
    /// Runs `byteprob next` with a stub LM; also returns the wall time and the seconds from the
    /// stub's last answer to its SIGTERM (−1 when it was not terminated).
    func runStub(_ mode: String, linger: Bool = false, prompt: String = "ab") throws -> (CLIRun, Double, String, Double) {
        let dir = NSTemporaryDirectory() + "tokenkit-lmstub-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stub = """
            import json, signal, sys, time
            mode = sys.argv[1]
            def ended(*_):
                open(sys.argv[2] + "/term", "w").write(repr(time.time()))
                sys.exit(0)
            signal.signal(signal.SIGTERM, ended)
            answers = {
                "uniform": json.dumps({"logprobs": {str(i): -11.0 for i in range(50257)}, "eos": -11.0}),
                "only_a": '{"logprobs": {"64": -0.1}}',
                "wrong_keys": '{"foo": 1}',
                "big_id": '{"logprobs": {"99999": -1.0}}',
                "positive": '{"logprobs": {"64": 5}}',
                "rounding": '{"logprobs": {"64": 1e-9, "65": -30}, "eos": -30}',
                "empty": '{"logprobs": {}}',
            }
            for line in sys.stdin:
                open(sys.argv[2] + "/answered", "w").write(repr(time.time()))
                print(answers[mode], flush=True)
            if \(linger ? "True" : "False"):
                time.sleep(60)

            """
        try writeFileAtomically(dir + "/stub.py", Array(stub.utf8))
        let command = "python3 \(dir)/stub.py \(mode) \(dir)"
        let start = Date()
        let r = try runTokenkit(["byteprob", "next", "-m", fixture("models/r50k_base.tiktoken"), "--prompt", prompt, "--format", "json",
                                 "--lm-command", command])
        func stamp(_ name: String) -> Double? { (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)).flatMap(Double.init) }
        let gap = stamp("answered").flatMap { answered in stamp("term").map { $0 - answered } } ?? -1
        return (r, Date().timeIntervalSince(start), command, gap)
    }

    /// A command that does not exit when its stdin closes is terminated after a grace period
    /// (5 s), and one that answers badly at once: tokenkit never waits on it forever.
    @Test func lingeringCommandIsStopped() throws {
        let (ok, seconds, _, _) = try runStub("uniform", linger: true)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(seconds < 30, "took \(seconds) s")
        let d = try JSONSerialization.jsonObject(with: Data(ok.out.utf8)) as! [String: Any]
        #expect(abs((d["distribution"] as! [String: Double]).values.reduce(d["end"] as! Double, +) - 1) < 1e-9)
        // Timed inside the stub (answer to SIGTERM), so machine load on start-up does not count.
        // (On a loaded machine the stub may not run its handler within the second before SIGKILL.)
        let (bad, badSeconds, command, gap) = try runStub("wrong_keys", linger: true)
        #expect(bad.status == 1 && bad.err.contains(command) && bad.err.contains("logprobs"), "\(bad.err)")
        #expect(badSeconds < 30, "took \(badSeconds) s")
        #expect(gap < 2.5, "terminated \(gap) s after its bad answer")
    }

    /// Answers outside the protocol are errors naming the command and what was wrong; a
    /// log-probability a rounding error above 0 is accepted as 0.
    @Test func badAnswersAreErrors() throws {
        for (mode, what) in [("big_id", "id 99999 is outside the tokenizer's vocabulary"), ("positive", "log-probability 5.0 > 0"),
                             ("empty", "no token and no eos")] {
            let (r, _, command, _) = try runStub(mode)
            #expect(r.status == 1, "\(mode): \(r.err)")
            #expect(r.err.contains(command) && r.err.contains(what), "\(mode): \(r.err)")
            #expect(r.out.isEmpty)
        }
        let (r, _, _, _) = try runStub("rounding", prompt: "a")
        #expect(r.status == 0, "\(r.err)")
    }

    /// A prompt the LM can never produce has no next-byte distribution: an error naming the
    /// first impossible byte, not {"distribution": {}, "end": 1}.
    @Test func zeroProbabilityPromptIsAnError() throws {
        let (r, _, _, _) = try runStub("only_a", prompt: "ab")
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains("the prompt has probability 0 under the LM") && r.err.contains("byte 1 ('b')"), "\(r.err)")
        #expect(r.out.isEmpty)
        // "a" has probability > 0, but nothing may follow it ([a, a] is not canonical: "aa" is
        // one token) and the LM gives no end: no distribution either.
        let (a, _, _, _) = try runStub("only_a", prompt: "a")
        #expect(a.status == 1 && a.err.contains("every next byte has probability 0"), "\(a.err)")
    }

    @Test func brokenCommandIsAnError() throws {
        let lm = try ExternalLM(command: "python3 -c 'import sys; sys.stdout.write(\"not json\\n\")'", vocabSize: 10)
        #expect(throws: TokenKitError.self) { try lm.next([]) }
        let gone = try ExternalLM(command: "true", vocabSize: 10)
        #expect(throws: TokenKitError.self) { try gone.next([1, 2]) }
    }
}
