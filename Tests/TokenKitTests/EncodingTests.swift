import Foundation
import Testing
import TokenKit
import TokenKitCore
import TokenKitFormats
import TokenKitModels

@Suite struct EncodingTests {
    /// decode(encode(x)) == x for byte-level models on random text of every category.
    @Test(arguments: ["models/r50k_base.tiktoken", "models/cl100k_base.tiktoken", "models/qwen2.5/tokenizer.json"])
    func roundTrip(_ model: String) throws {
        let tok = try Models.shared.get(model)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<300 {
            let text = randomText(&rng, length: Int(rng.next() % 80))
            // Qwen normalizes to NFC first, so compare with the NFC form there.
            let expected = tok.normalizer == nil ? Array(text.utf8) : Array(text.precomposedStringWithCanonicalMapping.utf8)
            #expect(try tok.decode(tok.encode(Array(text.utf8), policy: .ordinary)) == expected)
        }
    }

    /// A megabyte with no split point is one piece; the heap merger keeps it fast and exact.
    @Test func longPieceWithoutSplitPoints() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        let text = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        let ids = try tok.encode(text, policy: .ordinary)
        #expect(try tok.decode(ids) == text)
        // Same ids as merging the piece in small parts would give for a periodic string: every
        // token but the last is the same.
        #expect(Set(ids.dropLast()).count == 1)
    }

    /// Heap merging (long pieces) and linear merging (short pieces) agree.
    @Test func heapAndLinearMergingAgree() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        var rng = SplitMix64(seed: 9)
        let letters = Array("abcdeilnorst".utf8)
        for _ in 0..<100 {
            let word = (0..<(60 + Int(rng.next() % 100))).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }
            let long = try tok.encode(word, policy: .ordinary)
            // tiktoken's merge loop, quadratic and plain: merge the leftmost pair of lowest rank
            // until none is left. A wrong heap merge shows here: the whole word is never a token.
            var parts = word.map { [$0] }
            while parts.count > 1 {
                var best: (rank: TokenID, at: Int)?
                for i in 0..<(parts.count - 1) {
                    if let r = tok.model.vocab.lookup(parts[i] + parts[i + 1]), best == nil || r < best!.rank { best = (r, i) }
                }
                guard let b = best else { break }
                parts[b.at] += parts[b.at + 1]
                parts.remove(at: b.at + 1)
            }
            #expect(long == parts.map { tok.model.vocab.lookup($0)! })
            #expect(long.count > 1)
        }
    }

    /// Chunked, multi-threaded encoding equals encoding the whole text.
    @Test(arguments: ["models/cl100k_base.tiktoken", "models/qwen2.5/tokenizer.json", "models/llama2-spm/tokenizer.json",
                      "models/deepseek-coder/tokenizer.json"])
    func chunkedEqualsWhole(_ model: String) throws {
        let tok = try Models.shared.get(model)
        let text = try readFile(fixture("text/golden.txt"))
        var big: [UInt8] = []
        for _ in 0..<6 { big += text }
        let whole = try tok.encode(big, policy: .ordinary)
        try withTempDir { dir in
            let path = dir + "/in.txt"
            try writeFileAtomically(path, big)
            for threads in [1, 2, 3] {
                var driver = EncodeDriver(tokenizer: tok, policy: .ordinary, threads: threads, lines: false)
                driver.chunkSize = 1024
                var ids: [TokenID] = []
                var chunks = 0
                try driver.run(path) { ids += $0.documents[0]; chunks += 1 }
                #expect(ids == whole, "threads \(threads)")
                #expect(chunks > 1 || !tok.canChunk)
            }
        }
    }

    /// A tokenizer whose tokens span a line start (no pre-tokenizer, ",\nand"): the chunk cuts
    /// avoid them, so chunked encoding still equals the whole text's.
    @Test func chunkCutsAvoidTokensAcrossLineStarts() throws {
        let merged = [",\n", ",\na", ",\nan", ",\nand"].map { Array($0.utf8) }
        let table = try TokenTable((0..<256).map { ([UInt8($0)], TokenID($0)) } + merged.enumerated().map { ($0.element, TokenID(256 + $0.offset)) })
        let tok = try Tokenizer(name: "spanning", format: .tiktoken, model: .bpe(BPEModel.fromRanks(table)), normalizer: nil,
                                preTokenizer: .none, decoder: nil, addedTokens: [], patternDescription: "none", defaultPolicy: .ordinary)
        #expect(tok.tokensAcrossLineStarts == Array(merged[1...]))
        var big: [UInt8] = []
        for _ in 0..<400 { big += Array("the rest,\nand more,\n".utf8) }
        let whole = try tok.encode(big, policy: .ordinary)
        #expect(whole.filter { $0 == 259 }.count == 400)
        try withTempDir { dir in
            try writeFileAtomically(dir + "/in.txt", big)
            var driver = EncodeDriver(tokenizer: tok, policy: .ordinary, threads: 2, lines: false)
            driver.chunkSize = 1030  // the last line start before it is inside ",\nand"
            var ids: [TokenID] = []
            var chunks = 0
            try driver.run(dir + "/in.txt") { ids += $0.documents[0]; chunks += 1 }
            #expect(ids == whole && chunks > 1)
        }
    }

    @Test func linesModeEncodesEachLine() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        try withTempDir { dir in
            let path = dir + "/in.txt"
            try writeFileAtomically(path, Array("Hello world\nsecond line\r\n\nlast".utf8))
            var driver = EncodeDriver(tokenizer: tok, policy: .ordinary, threads: 2, lines: true)
            var docs: [[TokenID]] = []
            try driver.run(path) { docs += $0.documents }
            #expect(docs.count == 4)
            #expect(docs[0] == (try tok.encode("Hello world")))
            #expect(docs[1] == (try tok.encode("second line")))
            #expect(docs[2].isEmpty)
            #expect(docs[3] == (try tok.encode("last")))
        }
    }

    @Test func addedTokensInHFModels() throws {
        let tok = try Models.shared.get("models/qwen2.5/tokenizer.json")
        let ids = try tok.encode("<|im_start|>user\nhi<|im_end|>")
        #expect(ids.first == 151644 && ids.last == 151645)
        // With special tokens not allowed they are ordinary text.
        let plain = try tok.encode("<|im_start|>", policy: .ordinary)
        #expect(plain.count > 1 && !plain.contains(151644))
    }

    @Test func convertedTiktokenReloadsWithSameIds() throws {
        let tok = try Models.shared.get("models/cl100k_base.tiktoken")
        let json = try TokenizerJSON.write(tok)
        let again = try TokenizerJSON.load(json, name: "converted")
        let text = try readFile(fixture("text/golden.txt"))
        #expect(try again.encode(text, policy: .ordinary) == (try tok.encode(text, policy: .ordinary)))
        #expect(again.model.mergeCount == 100_256 - 256)
    }

    @Test func tiktokenWriterRoundTrips() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        let out = try TiktokenFormat.write(tok)
        #expect(out == (try readFile(fixture("models/r50k_base.tiktoken"))))
    }

    @Test func piecesUseTheByteAlphabet() throws {
        let tok = try Models.shared.get("models/r50k_base.tiktoken")
        #expect(try tok.encode(" hello").map(tok.piece) == ["Ġhello"])
    }
}
