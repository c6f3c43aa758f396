import TokenKit
import TokenKitCore
import TokenKitTraining
import TokenKitFormats
import TokenKitText

/// The merges of an existing byte-level tokenizer, as byte strings in rank order: from a
/// tokenizer.json, a GPT-2 merges.txt (its `#version` line is a header, not a merge) or tiktoken
/// ranks (each token of two or more bytes is the merge of the two tokens that BPE with the
/// lower ranks leaves it in).
public enum MergeSource {
    public static func read(_ path: String) throws -> [([UInt8], [UInt8])] {
        let data = try readFile(path)
        do {
            let start = data.firstIndex { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
            if let start, data[start] == UInt8(ascii: "{") { return try fromTokenizerJSON(data) }
            let lines = data.split(separator: 0x0A).map { $0.last == 0x0D ? $0.dropLast() : $0 }.filter { !$0.isEmpty }
            if let first = lines.first, isRankLine(first) { return try fromRanks(path) }
            return try fromMergesText(lines)
        } catch let e as TokenKitError {
            throw e.inFile(path)
        }
    }

    static func isRankLine(_ line: ArraySlice<UInt8>) -> Bool {
        let parts = line.split(separator: 0x20)
        return parts.count == 2 && Int(String(decoding: parts[1], as: UTF8.self)) != nil
            && parts[0].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || (($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D }
    }

    static func decodeSymbol(_ s: String, line: Int) throws -> [UInt8] {
        guard let b = ByteLevelAlphabet.decode(s), !b.isEmpty else {
            throw TokenKitError.badInput("merge \(line): \(s.debugDescription) is not in GPT-2's byte-level alphabet")
        }
        return b
    }

    static func fromTokenizerJSON(_ data: [UInt8]) throws -> [([UInt8], [UInt8])] {
        let json = try JSON.parse(data)
        guard case .array(let merges)? = json["model"]?["merges"] else {
            throw TokenKitError.badInput("no model.merges: not a BPE tokenizer.json")
        }
        return try merges.enumerated().map { k, m in
            switch m {
            case .string(let raw):
                let s = String(decoding: raw, as: UTF8.self)
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw TokenKitError.badInput("merge \(k + 1): expected \"left right\", got \(s.debugDescription)") }
                return (try decodeSymbol(String(parts[0]), line: k + 1), try decodeSymbol(String(parts[1]), line: k + 1))
            case .array(let pair):
                guard pair.count == 2, case .string(let a) = pair[0], case .string(let b) = pair[1] else {
                    throw TokenKitError.badInput("merge \(k + 1): expected two strings")
                }
                return (try decodeSymbol(String(decoding: a, as: UTF8.self), line: k + 1),
                        try decodeSymbol(String(decoding: b, as: UTF8.self), line: k + 1))
            default:
                throw TokenKitError.badInput("merge \(k + 1): expected a string or a pair of strings")
            }
        }
    }

    static func fromMergesText(_ lines: [ArraySlice<UInt8>]) throws -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        for (k, line) in lines.enumerated() {
            if k == 0, line.starts(with: Array("#version".utf8)) { continue }
            let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenKitError.badInput("line \(k + 1): expected \"left right\" (a merges.txt line)")
            }
            out.append((try decodeSymbol(String(decoding: parts[0], as: UTF8.self), line: k + 1),
                        try decodeSymbol(String(decoding: parts[1], as: UTF8.self), line: k + 1)))
        }
        return out
    }

    static func fromRanks(_ path: String) throws -> [([UInt8], [UInt8])] {
        let tok = try TokenizerLoader.load(path)
        var byRank: [(Int, [UInt8])] = tok.model.vocab.ids.map { (Int($0), tok.model.vocab.bytes($0)) }
        byRank.sort { $0.0 < $1.0 }
        var rank: [[UInt8]: Int] = [:]
        for (r, t) in byRank where rank[t] == nil { rank[t] = r }
        var out: [([UInt8], [UInt8])] = []
        for (r, t) in byRank where t.count > 1 {
            var parts = t.map { [$0] }
            while parts.count > 2 {
                var best = -1, bestRank = Int.max
                for i in 0..<(parts.count - 1) {
                    if let q = rank[parts[i] + parts[i + 1]], q < r, q < bestRank { best = i; bestRank = q }
                }
                if best < 0 { break }
                parts[best] += parts[best + 1]
                parts.remove(at: best + 1)
            }
            guard parts.count == 2 else {
                throw TokenKitError.badInput("rank \(r): the token is not the merge of two tokens of lower rank")
            }
            out.append((parts[0], parts[1]))
        }
        return out
    }
}
