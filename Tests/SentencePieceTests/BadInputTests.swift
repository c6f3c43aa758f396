import Foundation
import Testing
import TokenKitCore
import TokenKitSentencePiece
@testable import TokenKitModels

@Suite struct SPMBadInputTests {
    func message(_ data: [UInt8]) -> String? {
        do {
            _ = try SentencePieceModel.parse(data)
            return nil
        } catch let e as TokenKitError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    @Test func truncatedModelNamesTheField() throws {
        let data = try readBytes("sentencepiece/botchan_en_unigram_1000.model")
        // Walk the top-level fields: each piece is tag 0x0A, a one- or two-byte length, the body.
        func varint(_ i: inout Int) -> Int {
            var v = 0, shift = 0
            while data[i] & 0x80 != 0 { v |= Int(data[i] & 0x7F) << shift; shift += 7; i += 1 }
            v |= Int(data[i]) << shift
            i += 1
            return v
        }
        var i = 0
        for _ in 0..<12 {
            i += 1
            let n = varint(&i)
            i += n
        }
        i += 1
        _ = varint(&i)
        // Inside pieces[12]: tag 0x0A, length, the piece bytes, then the score tag 0x15.
        i += 1
        let n = varint(&i)
        i += n
        #expect(data[i] == 0x15)
        let cut = i + 3  // the score tag and two of its four bytes
        let msg = message(Array(data[..<cut]))
        #expect(msg?.contains("pieces[12]") == true, "\(msg ?? "loaded")")
        #expect(msg?.contains("score: truncated fixed32 at byte offset \(i + 1)") == true, "\(msg ?? "loaded")")
    }

    @Test func truncatedAnywhereThrowsOrLoads() throws {
        let data = try readBytes("sentencepiece/botchan_en_bpe_1000.model")
        // Offsets between two top-level fields: the only places a cut leaves a whole message.
        var boundaries: Set<Int> = [0]
        var j = 0
        func varint(_ i: inout Int) -> Int {
            var v = 0, shift = 0
            while data[i] & 0x80 != 0 { v |= Int(data[i] & 0x7F) << shift; shift += 7; i += 1 }
            v |= Int(data[i]) << shift
            i += 1
            return v
        }
        while j < data.count {
            let tag = varint(&j)
            switch tag & 7 {
            case 0: _ = varint(&j)
            case 1: j += 8
            case 2: j += varint(&j)
            case 5: j += 4
            default: Issue.record("unexpected wire type in the fixture"); return
            }
            boundaries.insert(j)
        }
        var rng = SplitMix64(seed: 11)
        var threw = 0
        for _ in 0..<300 {
            let cut = Int(rng.next() % UInt64(data.count))
            // A cut between two fields is a valid shorter model; anything else must throw.
            do {
                let m = try SentencePieceModel.parse(Array(data[..<cut]))
                #expect(boundaries.contains(cut), "a cut inside a field at \(cut) loaded")
                #expect(m.encode(Array("Hello wörld".utf8)).allSatisfy { Int($0) < m.pieces.count })
            } catch let e as TokenKitError {
                threw += 1
                #expect(!e.message.isEmpty)
            } catch {
                Issue.record("not a TokenKitError: \(error)")
            }
        }
        #expect(threw > 200, "most cuts fall inside a field")
    }

    @Test func flippedBytesThrowOrLoad() throws {
        let data = try readBytes("sentencepiece/botchan_en_unigram_1000.model")
        var rng = SplitMix64(seed: 12)
        var loaded = 0
        for round in 0..<300 {
            var d = data
            for _ in 0..<(1 + round % 8) {
                let i = Int(rng.next() % UInt64(d.count))
                d[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let m = try? SentencePieceModel.parse(d) {
                loaded += 1
                // A model that loads must encode and decode without trapping.
                let ids = m.encode(Array("Hello wörld, 漢字 \u{1F600}!".utf8))
                _ = try? m.decode(ids)
                _ = m.nbest(Array("hello".utf8), count: 3)
            }
        }
        #expect(loaded > 0)
    }

    @Test func corruptCharsmapIsSafe() throws {
        let data = try readBytes("sentencepiece/botchan_en_unigram_1000.model")
        var m = try SentencePieceModel.parse(data)
        var blob = m.normalizerSpec.precompiledCharsmap
        var rng = SplitMix64(seed: 5)
        for _ in 0..<2000 {
            let i = 4 + Int(rng.next() % UInt64(blob.count - 4))
            blob[i] = UInt8(truncatingIfNeeded: rng.next())
        }
        let cm = try PrecompiledCharsMap(blob)
        _ = cm.normalize(Array("ＡＢＣ ｱｲｳ ① Ǆ x\u{0301} abc".utf8))
        m.normalizerSpec.precompiledCharsmap = blob
        _ = m.encode(Array("ＡＢＣ ｱｲｳ ① Ǆ x\u{0301} abc".utf8))
        #expect(throws: TokenKitError.self) { try PrecompiledCharsMap([1, 2, 3]) }
        #expect(throws: TokenKitError.self) { try PrecompiledCharsMap([0xFF, 0xFF, 0, 0, 1, 2]) }
    }

    @Test func semanticErrors() throws {
        let data = try readBytes("sentencepiece/llama2_tokenizer.model")
        var m = try SentencePieceModel.parse(data)
        m.pieces[0].type = .normal
        #expect(message(m.serialized())?.contains("UNKNOWN") == true)
        m = try SentencePieceModel.parse(data)
        m.pieces[500].bytes = m.pieces[501].bytes
        #expect(message(m.serialized())?.contains("pieces[501]") == true)
        m = try SentencePieceModel.parse(data)
        m.byteFallback = false
        #expect(message(m.serialized())?.contains("byte_fallback") == true)
        #expect(message([0x0A, 0x05, 0x0A]) != nil)
        #expect(message([0x08]) != nil)
    }

    @Test func outOfRangeIDThrows() throws {
        let m = try SPMModels.shared.get("sentencepiece/botchan_en_bpe_1000.model")
        #expect(throws: TokenKitError.self) { try m.decode([5, 1000]) }
    }

    @Test func invalidUTF8BecomesReplacementCharacter() throws {
        let m = try SPMModels.shared.get("sentencepiece/llama2_tokenizer.model")
        let ids = m.encode([0x61, 0xFF, 0x62])
        #expect(ids == m.encode(Array("a\u{FFFD}b".utf8)))
    }
}
