import Foundation
import Testing
import TokenKit
import TokenKitByteProb
import TokenKitCore

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
        for prompt in ["", "a", "ab", "Hello wor", "x  ", "caf\u{e9}", "\u{e9}"] {
            var bytes = Array(prompt.utf8)
            if prompt == "\u{e9}" { bytes.removeLast() }  // ends inside a UTF-8 character
            let da = try a.next(text: bytes), db = try b.next(text: bytes)
            #expect(maxError(da, db) < 1e-12, "\(prompt.debugDescription)")
            #expect(abs(da.probs.reduce(da.end, +) - 1) < 1e-12)
        }
        // Repeated contexts are answered from the cache.
        #expect(external.calls == local.calls)
        let before = external.calls
        _ = try a.next(text: Array("ab".utf8))
        #expect(external.calls == before)
    }

    @Test func brokenCommandIsAnError() throws {
        let lm = try ExternalLM(command: "python3 -c 'import sys; sys.stdout.write(\"not json\\n\")'", vocabSize: 10)
        #expect(throws: TokenKitError.self) { try lm.next([]) }
        let gone = try ExternalLM(command: "true", vocabSize: 10)
        #expect(throws: TokenKitError.self) { try gone.next([1, 2]) }
    }
}
